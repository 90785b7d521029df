// SPDX-License-Identifier: GPL-2.0
/*
 * libxvcpu: thin wrappers over the /dev/xvcpu ioctls, guest memory
 * bookkeeping and guest mode setup.  See libxvcpu.h for the contract.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libxvcpu.h"

#define XVCPU_DEV_PATH	"/dev/xvcpu"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Control register and EFER bits used by the mode setup. */
#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

/* Page table entry bits. */
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

/* Segment types (S = 1: code/data; S = 0: system). */
#define SEG_TYPE_DATA_RWA	0x3	/* read/write, accessed */
#define SEG_TYPE_CODE_XRA	0xb	/* execute/read, accessed */
#define SEG_TYPE_LDT		0x2
#define SEG_TYPE_TSS_BUSY	0xb	/* 32-bit or 64-bit busy TSS */

#define TSS_SIZE	104		/* 32-bit and 64-bit TSS alike */
#define PAGE_SIZE_4K	0x1000ULL
#define PAGE_SIZE_2M	0x200000ULL
#define REAL_MODE_TOP	0x100000ULL	/* 1 MiB */

/* Return -errno and leave errno as it is. */
static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static int set_errno(int err)
{
	errno = err;
	return -err;
}

int xvcpu_open(void)
{
	int fd, ver, saved;

	fd = open(XVCPU_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();

	ver = ioctl(fd, XVCPU_GET_API_VERSION, 0);
	if (ver < 0) {
		saved = errno;
		close(fd);
		return set_errno(saved);
	}
	if (ver != XVCPU_API_VERSION) {
		close(fd);
		return set_errno(EPROTO);
	}
	return fd;
}

int xvcpu_check_cap(int sys_fd, unsigned long cap)
{
	int ret = ioctl(sys_fd, XVCPU_CHECK_CAP, cap);

	return ret < 0 ? neg_errno() : ret;
}

struct xvcpu_vm *xvcpu_vm_create(int sys_fd)
{
	struct xvcpu_vm *vm;
	int saved;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;

	vm->sys_fd = sys_fd;
	vm->fd = ioctl(sys_fd, XVCPU_CREATE_VM, 0);
	if (vm->fd < 0) {
		saved = errno;
		free(vm);
		errno = saved;
		return NULL;
	}
	return vm;
}

void xvcpu_vm_destroy(struct xvcpu_vm *vm)
{
	int saved = errno;
	unsigned int i;

	if (!vm)
		return;
	for (i = 0; i < XVCPU_LIB_MAX_SLOTS; i++) {
		struct xvcpu_lib_slot *s = &vm->slots[i];

		if (s->used && s->hva)
			munmap(s->hva, s->size);
	}
	if (vm->fd >= 0)
		close(vm->fd);
	free(vm);
	errno = saved;
}

static int set_region(struct xvcpu_vm *vm, uint32_t slot, uint64_t gpa,
		      uint64_t size, uint32_t flags, uint64_t *mmap_offset)
{
	struct xvcpu_memory_region r;

	memset(&r, 0, sizeof(r));
	r.slot = slot;
	r.flags = flags;
	r.guest_phys_addr = gpa;
	r.memory_size = size;
	if (ioctl(vm->fd, XVCPU_SET_MEMORY_REGION, &r) < 0)
		return neg_errno();
	if (mmap_offset)
		*mmap_offset = r.mmap_offset;
	return 0;
}

void *xvcpu_vm_add_memory(struct xvcpu_vm *vm, uint32_t slot, uint64_t gpa,
			  uint64_t size, uint32_t flags)
{
	struct xvcpu_lib_slot *s;
	uint64_t off;
	void *hva;
	int saved;

	if (slot >= XVCPU_LIB_MAX_SLOTS || size == 0 || size > SIZE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	s = &vm->slots[slot];
	if (s->used) {
		errno = EEXIST;
		return NULL;
	}
	off = XVCPU_MMAP_SLOT_OFFSET(slot);
	if (set_region(vm, slot, gpa, size, flags, &off) < 0)
		return NULL;

	/* The ABI fixes the offset; a different answer is a kernel bug. */
	if (off != XVCPU_MMAP_SLOT_OFFSET(slot)) {
		saved = EPROTO;
		goto err_delete;
	}
	hva = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->fd,
		   (off_t)off);
	if (hva == MAP_FAILED) {
		saved = errno;
		goto err_delete;
	}

	s->used = 1;
	s->flags = flags;
	s->gpa = gpa;
	s->size = size;
	s->hva = hva;
	return hva;

err_delete:
	set_region(vm, slot, gpa, 0, 0, NULL);
	errno = saved;
	return NULL;
}

int xvcpu_vm_remove_memory(struct xvcpu_vm *vm, uint32_t slot)
{
	struct xvcpu_lib_slot *s;
	int ret;

	if (slot >= XVCPU_LIB_MAX_SLOTS)
		return set_errno(EINVAL);
	s = &vm->slots[slot];
	if (!s->used)
		return set_errno(ENOENT);

	/* The kernel refuses to delete a slot that is still mapped. */
	if (s->hva) {
		if (munmap(s->hva, s->size) < 0)
			return neg_errno();
		s->hva = NULL;
	}
	ret = set_region(vm, slot, s->gpa, 0, 0, NULL);
	if (ret < 0)
		return ret;	/* the slot stays, unmapped */
	memset(s, 0, sizeof(*s));
	return 0;
}

/* The mapped slot holding @gpa, or NULL. */
static struct xvcpu_lib_slot *find_slot(struct xvcpu_vm *vm, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < XVCPU_LIB_MAX_SLOTS; i++) {
		struct xvcpu_lib_slot *s = &vm->slots[i];

		if (s->used && s->hva && gpa >= s->gpa &&
		    gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

void *xvcpu_gpa_to_hva(struct xvcpu_vm *vm, uint64_t gpa)
{
	struct xvcpu_lib_slot *s = find_slot(vm, gpa);

	if (!s) {
		errno = EFAULT;
		return NULL;
	}
	return (char *)s->hva + (gpa - s->gpa);
}

/*
 * Walk [gpa, gpa + len) slot by slot.  @to_guest selects the direction.
 */
static int copy_guest(struct xvcpu_vm *vm, uint64_t gpa, void *buf,
		      size_t len, int to_guest)
{
	char *p = buf;

	if (len && gpa + len - 1 < gpa)
		return set_errno(EFAULT);

	while (len) {
		struct xvcpu_lib_slot *s = find_slot(vm, gpa);
		uint64_t in_slot;
		size_t n;
		char *hva;

		if (!s)
			return set_errno(EFAULT);
		in_slot = s->size - (gpa - s->gpa);
		n = len < in_slot ? len : (size_t)in_slot;
		hva = (char *)s->hva + (gpa - s->gpa);
		if (to_guest)
			memcpy(hva, p, n);
		else
			memcpy(p, hva, n);
		p += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int xvcpu_vm_write(struct xvcpu_vm *vm, uint64_t gpa, const void *src,
		   size_t len)
{
	return copy_guest(vm, gpa, (void *)src, len, 1);
}

int xvcpu_vm_read(struct xvcpu_vm *vm, uint64_t gpa, void *dst, size_t len)
{
	return copy_guest(vm, gpa, dst, len, 0);
}

struct xvcpu_vcpu *xvcpu_vcpu_create(struct xvcpu_vm *vm, unsigned int id)
{
	struct xvcpu_vcpu *vcpu;
	int size, saved;
	void *run;

	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;

	size = ioctl(vm->sys_fd, XVCPU_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		goto err_free;
	if ((size_t)size < sizeof(struct xvcpu_run)) {
		errno = EPROTO;
		goto err_free;
	}

	vcpu->fd = ioctl(vm->fd, XVCPU_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		goto err_free;

	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu->fd, 0);
	if (run == MAP_FAILED)
		goto err_close;

	vcpu->run = run;
	vcpu->run_size = (size_t)size;
	return vcpu;

err_close:
	saved = errno;
	close(vcpu->fd);
	errno = saved;
err_free:
	saved = errno;
	free(vcpu);
	errno = saved;
	return NULL;
}

void xvcpu_vcpu_destroy(struct xvcpu_vcpu *vcpu)
{
	int saved = errno;

	if (!vcpu)
		return;
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
	errno = saved;
}

int xvcpu_vcpu_run(struct xvcpu_vcpu *vcpu)
{
	return ioctl(vcpu->fd, XVCPU_RUN, 0) < 0 ? neg_errno() : 0;
}

int xvcpu_get_regs(struct xvcpu_vcpu *vcpu, struct xvcpu_regs *regs)
{
	return ioctl(vcpu->fd, XVCPU_GET_REGS, regs) < 0 ? neg_errno() : 0;
}

int xvcpu_set_regs(struct xvcpu_vcpu *vcpu, const struct xvcpu_regs *regs)
{
	return ioctl(vcpu->fd, XVCPU_SET_REGS, regs) < 0 ? neg_errno() : 0;
}

int xvcpu_get_sregs(struct xvcpu_vcpu *vcpu, struct xvcpu_sregs *sregs)
{
	return ioctl(vcpu->fd, XVCPU_GET_SREGS, sregs) < 0 ? neg_errno() : 0;
}

int xvcpu_set_sregs(struct xvcpu_vcpu *vcpu, const struct xvcpu_sregs *sregs)
{
	return ioctl(vcpu->fd, XVCPU_SET_SREGS, sregs) < 0 ? neg_errno() : 0;
}

int xvcpu_get_exit_info(struct xvcpu_vcpu *vcpu, struct xvcpu_exit_info *info)
{
	return ioctl(vcpu->fd, XVCPU_GET_EXIT_INFO, info) < 0 ?
		neg_errno() : 0;
}

/* ---- events and debugging ---- */

int xvcpu_get_events(struct xvcpu_vcpu *vcpu, struct xvcpu_events *ev)
{
	return ioctl(vcpu->fd, XVCPU_GET_EVENTS, ev) < 0 ? neg_errno() : 0;
}

int xvcpu_set_events(struct xvcpu_vcpu *vcpu, const struct xvcpu_events *ev)
{
	return ioctl(vcpu->fd, XVCPU_SET_EVENTS, ev) < 0 ? neg_errno() : 0;
}

int xvcpu_interrupt(struct xvcpu_vcpu *vcpu, unsigned int vector)
{
	struct xvcpu_interrupt irq = { .vector = vector };

	return ioctl(vcpu->fd, XVCPU_INTERRUPT, &irq) < 0 ? neg_errno() : 0;
}

int xvcpu_nmi(struct xvcpu_vcpu *vcpu)
{
	return ioctl(vcpu->fd, XVCPU_NMI, 0) < 0 ? neg_errno() : 0;
}

int xvcpu_set_guest_debug(struct xvcpu_vcpu *vcpu, uint32_t flags)
{
	struct xvcpu_guest_debug dbg = { .flags = flags };

	return ioctl(vcpu->fd, XVCPU_SET_GUEST_DEBUG, &dbg) < 0 ?
		neg_errno() : 0;
}

/* ---- CPUID tables ---- */

int xvcpu_get_supported_cpuid(int sys_fd, struct xvcpu_cpuid *cpuid)
{
	cpuid->nent = 0;
	cpuid->pad = 0;
	return ioctl(sys_fd, XVCPU_GET_SUPPORTED_CPUID, cpuid) < 0 ?
		neg_errno() : 0;
}

int xvcpu_get_cpuid(struct xvcpu_vcpu *vcpu, struct xvcpu_cpuid *cpuid)
{
	cpuid->nent = 0;
	cpuid->pad = 0;
	return ioctl(vcpu->fd, XVCPU_GET_CPUID, cpuid) < 0 ? neg_errno() : 0;
}

int xvcpu_set_cpuid(struct xvcpu_vcpu *vcpu, const struct xvcpu_cpuid *cpuid)
{
	return ioctl(vcpu->fd, XVCPU_SET_CPUID, cpuid) < 0 ? neg_errno() : 0;
}

struct xvcpu_cpuid_entry *xvcpu_cpuid_entry(struct xvcpu_cpuid *cpuid,
					    uint32_t function, uint32_t index)
{
	struct xvcpu_cpuid_entry *e;
	uint32_t i;

	for (i = 0; i < cpuid->nent && i < XVCPU_CPUID_MAX_ENTRIES; i++) {
		e = &cpuid->entries[i];
		if (e->function == function &&
		    (!(e->flags & XVCPU_CPUID_FLAG_INDEXED) || e->index == index))
			return e;
	}
	return NULL;
}

/* ---- guest mode setup ---- */

static void put_le64(uint8_t *p, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Encode the low 8 bytes of a segment descriptor from the register view
 * (limit in bytes, scaled down when g == 1).
 */
static uint64_t seg_to_desc(const struct xvcpu_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t d;

	d = limit & 0xffff;
	d |= (s->base & 0xffffff) << 16;
	d |= (uint64_t)(s->type & 0xf) << 40;
	d |= (uint64_t)(s->s & 1) << 44;
	d |= (uint64_t)(s->dpl & 3) << 45;
	d |= (uint64_t)(s->present & 1) << 47;
	d |= ((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)(s->avl & 1) << 52;
	d |= (uint64_t)(s->l & 1) << 53;
	d |= (uint64_t)(s->db & 1) << 54;
	d |= (uint64_t)(s->g & 1) << 55;
	d |= ((s->base >> 24) & 0xff) << 56;
	return d;
}

static void seg_flat(struct xvcpu_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = 1;
}

static void seg_real(struct xvcpu_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = (uint64_t)sel << 4;
	s->limit = 0xffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
}

static void seg_tss(struct xvcpu_segment *s, uint16_t sel, uint64_t base,
		    uint32_t limit)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->limit = limit;
	s->selector = sel;
	s->type = SEG_TYPE_TSS_BUSY;
	s->present = 1;
}

static void seg_ldt_unusable(struct xvcpu_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->type = SEG_TYPE_LDT;
	s->unusable = 1;
}

/* Real-mode segment whose 64 KiB window holds @addr (addr <= 1 MiB). */
static uint16_t real_selector_for(uint64_t addr)
{
	return (uint16_t)((addr >> 4) & 0xf000);
}

static int build_real(uint64_t entry, uint64_t stack,
		      struct xvcpu_regs *regs, struct xvcpu_sregs *sregs)
{
	uint16_t cs, ss;

	if (entry >= REAL_MODE_TOP || stack > REAL_MODE_TOP)
		return -EINVAL;

	cs = real_selector_for(entry);
	/* SP = 0 means the top of the segment below @stack. */
	ss = stack ? real_selector_for(stack - 1) : 0;

	seg_real(&sregs->cs, cs, SEG_TYPE_CODE_XRA);
	seg_real(&sregs->ds, cs, SEG_TYPE_DATA_RWA);
	seg_real(&sregs->es, cs, SEG_TYPE_DATA_RWA);
	seg_real(&sregs->fs, cs, SEG_TYPE_DATA_RWA);
	seg_real(&sregs->gs, cs, SEG_TYPE_DATA_RWA);
	seg_real(&sregs->ss, ss, SEG_TYPE_DATA_RWA);

	/* TR as after reset: a usable busy TSS at 0, as VMX requires. */
	seg_tss(&sregs->tr, 0, 0, 0xffff);
	seg_ldt_unusable(&sregs->ldt);

	sregs->gdt.base = 0;
	sregs->gdt.limit = 0xffff;
	sregs->idt.base = 0;
	sregs->idt.limit = 0x3ff;	/* the real-mode interrupt vectors */
	sregs->cr0 = CR0_ET | CR0_NE;

	regs->rip = entry - sregs->cs.base;
	regs->rsp = (stack - sregs->ss.base) & 0xffff;
	return 0;
}

static int build_protected(uint64_t entry, uint64_t stack,
			   uint64_t tables_gpa, uint8_t *tables,
			   struct xvcpu_regs *regs, struct xvcpu_sregs *sregs)
{
	uint8_t *gdt = tables + XVCPU_SETUP_GDT_OFFSET;
	uint64_t tss = tables_gpa + XVCPU_SETUP_TSS_OFFSET;

	if (entry > 0xffffffffULL || stack > 0x100000000ULL ||
	    tables_gpa + XVCPU_SETUP_TABLES_SIZE > 0x100000000ULL)
		return -EINVAL;

	seg_flat(&sregs->cs, XVCPU_SETUP_SEL_CODE, SEG_TYPE_CODE_XRA);
	seg_flat(&sregs->ds, XVCPU_SETUP_SEL_DATA, SEG_TYPE_DATA_RWA);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;
	seg_tss(&sregs->tr, XVCPU_SETUP_SEL_TSS, tss, TSS_SIZE - 1);
	seg_ldt_unusable(&sregs->ldt);

	memset(tables, 0, PAGE_SIZE_4K);
	put_le64(gdt + XVCPU_SETUP_SEL_CODE, seg_to_desc(&sregs->cs));
	put_le64(gdt + XVCPU_SETUP_SEL_DATA, seg_to_desc(&sregs->ds));
	put_le64(gdt + XVCPU_SETUP_SEL_TSS, seg_to_desc(&sregs->tr));
	/* TSS: all zero; I/O map base past the limit, i.e. no I/O bitmap. */
	tables[XVCPU_SETUP_TSS_OFFSET + 102] = TSS_SIZE;

	sregs->gdt.base = tables_gpa + XVCPU_SETUP_GDT_OFFSET;
	sregs->gdt.limit = XVCPU_SETUP_GDT_ENTRIES * 8 - 1;
	/* An empty IDT: any exception ends in a triple fault (SHUTDOWN). */
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = CR0_PE | CR0_ET | CR0_NE;

	regs->rip = entry;
	regs->rsp = stack;
	return 0;
}

static int build_long(uint64_t entry, uint64_t stack, uint64_t tables_gpa,
		      uint8_t *tables, struct xvcpu_regs *regs,
		      struct xvcpu_sregs *sregs)
{
	uint8_t *gdt = tables + XVCPU_SETUP_GDT_OFFSET;
	uint8_t *pml4 = tables + XVCPU_SETUP_PML4_OFFSET;
	uint8_t *pdpt = tables + XVCPU_SETUP_PDPT_OFFSET;
	uint64_t tss = tables_gpa + XVCPU_SETUP_TSS_OFFSET;
	uint64_t pa;
	unsigned int i;

	/* CR3 and the table entries hold at most 52 bits of address. */
	if ((tables_gpa + XVCPU_SETUP_TABLES_SIZE) >> 52)
		return -EINVAL;

	seg_flat(&sregs->cs, XVCPU_SETUP_SEL_CODE, SEG_TYPE_CODE_XRA);
	sregs->cs.db = 0;
	sregs->cs.l = 1;
	seg_flat(&sregs->ds, XVCPU_SETUP_SEL_DATA, SEG_TYPE_DATA_RWA);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;
	seg_tss(&sregs->tr, XVCPU_SETUP_SEL_TSS, tss, TSS_SIZE - 1);
	seg_ldt_unusable(&sregs->ldt);

	memset(tables, 0, XVCPU_SETUP_TABLES_SIZE);
	put_le64(gdt + XVCPU_SETUP_SEL_CODE, seg_to_desc(&sregs->cs));
	put_le64(gdt + XVCPU_SETUP_SEL_DATA, seg_to_desc(&sregs->ds));
	/* A 64-bit TSS descriptor takes 16 bytes: base 63:32 in the second. */
	put_le64(gdt + XVCPU_SETUP_SEL_TSS, seg_to_desc(&sregs->tr));
	put_le64(gdt + XVCPU_SETUP_SEL_TSS + 8, tss >> 32);
	tables[XVCPU_SETUP_TSS_OFFSET + 102] = TSS_SIZE;

	/* PML4[0] -> PDPT; PDPT[0..3] -> PD0..3; PDn: 2 MiB pages. */
	put_le64(pml4, (tables_gpa + XVCPU_SETUP_PDPT_OFFSET) | PTE_P | PTE_RW);
	for (i = 0; i < 4; i++) {
		uint64_t pd_gpa = tables_gpa + XVCPU_SETUP_PD_OFFSET +
				  i * PAGE_SIZE_4K;

		put_le64(pdpt + 8 * i, pd_gpa | PTE_P | PTE_RW);
	}
	for (i = 0, pa = 0; i < 4 * 512; i++, pa += PAGE_SIZE_2M)
		put_le64(tables + XVCPU_SETUP_PD_OFFSET + 8 * i,
			 pa | PTE_P | PTE_RW | PTE_PS);

	sregs->gdt.base = tables_gpa + XVCPU_SETUP_GDT_OFFSET;
	sregs->gdt.limit = XVCPU_SETUP_GDT_ENTRIES * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs->cr3 = tables_gpa + XVCPU_SETUP_PML4_OFFSET;
	sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer = EFER_LME | EFER_LMA;

	regs->rip = entry;
	regs->rsp = stack;
	return 0;
}

int xvcpu_mode_build(enum xvcpu_mode mode, uint64_t entry, uint64_t stack,
		     uint64_t tables_gpa, void *tables,
		     struct xvcpu_regs *regs, struct xvcpu_sregs *sregs)
{
	memset(regs, 0, sizeof(*regs));
	memset(sregs, 0, sizeof(*sregs));
	regs->rflags = 0x2;

	if (mode == XVCPU_MODE_REAL)
		return build_real(entry, stack, regs, sregs);

	if (!tables || tables_gpa & (PAGE_SIZE_4K - 1))
		return -EINVAL;
	if (mode == XVCPU_MODE_PROTECTED)
		return build_protected(entry, stack, tables_gpa, tables,
				       regs, sregs);
	if (mode == XVCPU_MODE_LONG)
		return build_long(entry, stack, tables_gpa, tables, regs,
				  sregs);
	return -EINVAL;
}

int xvcpu_vcpu_setup_mode(struct xvcpu_vcpu *vcpu, enum xvcpu_mode mode,
			  uint64_t entry, uint64_t stack, uint64_t tables_gpa)
{
	struct xvcpu_regs regs;
	struct xvcpu_sregs sregs;
	struct xvcpu_lib_slot *s;
	void *tables = NULL;
	int ret;

	if (mode != XVCPU_MODE_REAL) {
		/* The whole area must lie in one mapped slot. */
		s = find_slot(vcpu->vm, tables_gpa);
		if (!s || s->size - (tables_gpa - s->gpa) <
			  XVCPU_SETUP_TABLES_SIZE)
			return set_errno(EFAULT);
		tables = (char *)s->hva + (tables_gpa - s->gpa);
	}

	ret = xvcpu_mode_build(mode, entry, stack, tables_gpa, tables, &regs,
			       &sregs);
	if (ret < 0)
		return set_errno(-ret);

	ret = xvcpu_set_sregs(vcpu, &sregs);
	if (ret < 0)
		return ret;
	ret = xvcpu_set_regs(vcpu, &regs);
	if (ret < 0)
		return ret;
	/* A fresh start: no event left over from what ran before */
	return xvcpu_set_events(vcpu, &(struct xvcpu_events){ 0 });
}

const char *xvcpu_exit_name(uint32_t exit_reason)
{
	static const char *const names[] = {
		[XVCPU_EXIT_UNKNOWN]		= "UNKNOWN",
		[XVCPU_EXIT_IO]			= "IO",
		[XVCPU_EXIT_HLT]		= "HLT",
		[XVCPU_EXIT_MMIO]		= "MMIO",
		[XVCPU_EXIT_SHUTDOWN]		= "SHUTDOWN",
		[XVCPU_EXIT_FAIL_ENTRY]		= "FAIL_ENTRY",
		[XVCPU_EXIT_INTERNAL_ERROR]	= "INTERNAL_ERROR",
		[XVCPU_EXIT_INTR]		= "INTR",
		[XVCPU_EXIT_HYPERCALL]		= "HYPERCALL",
		[XVCPU_EXIT_MSR]		= "MSR",
		[XVCPU_EXIT_IRQ_WINDOW_OPEN]	= "IRQ_WINDOW_OPEN",
		[XVCPU_EXIT_DEBUG]		= "DEBUG",
	};

	if (exit_reason < ARRAY_SIZE(names) && names[exit_reason])
		return names[exit_reason];
	return "?";
}
