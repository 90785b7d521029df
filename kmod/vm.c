// SPDX-License-Identifier: GPL-2.0
/*
 * VM objects: guest memory slots backed by kernel pages, mapped in EPT
 * and into the VMM with mmap() of the VM fd.
 */
#define pr_fmt(fmt) "xvcpu: " fmt

#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <asm/io.h>

#include "compat.h"
#include "xvcpu.h"
#include "../include/xvcpu/vmx.h"

static u64 *vm_ept_alloc(void *ctx, u64 *pa)
{
	struct page *page = xvcpu_alloc_page();

	if (!page)
		return NULL;
	*pa = page_to_phys(page);
	return page_address(page);
}

static void vm_ept_free(void *ctx, u64 *table)
{
	xvcpu_free_page(virt_to_page(table));
}

static u64 *vm_ept_va(void *ctx, u64 pa)
{
	return phys_to_virt(pa);
}

static const struct ept_table_ops vm_ept_ops = {
	.alloc = vm_ept_alloc,
	.free = vm_ept_free,
	.va = vm_ept_va,
};

struct xvcpu_vm *xvcpu_vm_create(void)
{
	struct xvcpu_vm *vm;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return NULL;
	if (ept_init(&vm->ept, &vm_ept_ops, vm)) {
		kfree(vm);
		return NULL;
	}
	vm->eptp = ept_pointer(&vm->ept);
	refcount_set(&vm->refs, 1);
	mutex_init(&vm->lock);
	atomic_long_inc(&xvcpu_stats.vms);
	return vm;
}

static void vm_free_slot_pages(struct xvcpu_slot *slot)
{
	struct page *page;
	unsigned long i;

	xa_for_each(&slot->pages, i, page)
		xvcpu_free_page(page);
	xa_destroy(&slot->pages);
}

void xvcpu_vm_put(struct xvcpu_vm *vm)
{
	int i;

	if (!refcount_dec_and_test(&vm->refs))
		return;
	/*
	 * Nothing runs on this EPT any more, but CPUs may still cache its
	 * translations: a later VM whose EPT root lands on the same page
	 * must not find them.
	 */
	vmx_invept_all_cpus(vm->eptp);
	for (i = 0; i < XVCPU_NR_MEMSLOTS; i++)
		if (vm->slots[i].used)
			vm_free_slot_pages(&vm->slots[i]);
	ept_destroy(&vm->ept);
	mutex_destroy(&vm->lock);
	kfree(vm);
	atomic_long_dec(&xvcpu_stats.vms);
}

#define SZ_2M_PAGES	(SZ_2M >> PAGE_SHIFT)

static struct xvcpu_slot *vm_find_slot(struct xvcpu_vm *vm, u64 gpa)
{
	int i;

	for (i = 0; i < XVCPU_NR_MEMSLOTS; i++) {
		struct xvcpu_slot *s = &vm->slots[i];

		if (s->used && !s->creating && gpa >= s->gpa &&
		    gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

/* The page at index @i of @slot, allocated zeroed if new.  vm->lock held. */
static struct page *slot_get_page(struct xvcpu_slot *slot, unsigned long i)
{
	struct page *page = xa_load(&slot->pages, i);

	if (page)
		return page;
	page = xvcpu_alloc_page();
	if (!page)
		return NULL;
	if (xa_err(xa_store(&slot->pages, i, page, GFP_KERNEL_ACCOUNT))) {
		xvcpu_free_page(page);
		return NULL;
	}
	return page;
}

static u64 slot_prot(const struct xvcpu_slot *slot)
{
	if (slot->flags & XVCPU_MEM_READONLY)
		return EPT_READ | EPT_EXEC;
	return EPT_RWX;
}

/*
 * Back the whole 2 MiB page of @slot at index @first (2 MiB aligned in
 * guest-physical space, inside the slot, nothing of it allocated yet) with
 * one physically contiguous block and map it with one EPT leaf.  Returns
 * false if that cannot be done; then 4 KiB pages serve.
 */
static bool slot_map_2m(struct xvcpu_vm *vm, struct xvcpu_slot *slot,
			unsigned long first)
{
	u64 gpa = slot->gpa + ((u64)first << PAGE_SHIFT);
	struct page *page;
	unsigned long i = first;
	unsigned long j;

	if (!vmx_caps.ept_2mb || !IS_ALIGNED(gpa, SZ_2M) ||
	    first + SZ_2M_PAGES > slot->npages ||
	    xa_find(&slot->pages, &i, first + SZ_2M_PAGES - 1, XA_PRESENT))
		return false;
	page = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			   __GFP_NORETRY, get_order(SZ_2M));
	if (!page)
		return false;
	/* 512 independent pages, so each can be mapped into the VMM */
	split_page(page, get_order(SZ_2M));
	atomic_long_add(SZ_2M_PAGES, &xvcpu_stats.pages);
	for (j = 0; j < SZ_2M_PAGES; j++) {
		if (xa_err(xa_store(&slot->pages, first + j, page + j,
				    GFP_KERNEL_ACCOUNT)))
			goto undo;
	}
	if (ept_map_page(&vm->ept, gpa, page_to_phys(page), EPT_LEVEL_2M,
			 slot_prot(slot)))
		goto undo;
	return true;
undo:
	for (j = 0; j < SZ_2M_PAGES; j++) {
		xa_erase(&slot->pages, first + j);
		xvcpu_free_page(page + j);
	}
	return false;
}

int xvcpu_vm_populate(struct xvcpu_vm *vm, u64 gpa)
{
	struct xvcpu_slot *slot;
	struct page *page;
	unsigned long i;
	int r = 0;

	mutex_lock(&vm->lock);
	slot = vm_find_slot(vm, gpa);
	if (!slot) {
		r = -ENOENT;
		goto out;
	}
	i = (gpa - slot->gpa) >> PAGE_SHIFT;
	if (slot_map_2m(vm, slot, ALIGN_DOWN(i, SZ_2M_PAGES)))
		goto out;
	page = slot_get_page(slot, i);
	if (!page) {
		r = -ENOMEM;
		goto out;
	}
	r = ept_map_page(&vm->ept, gpa & PAGE_MASK, page_to_phys(page),
			 EPT_LEVEL_4K, slot_prot(slot));
	/* Mapped already: another vCPU was faster */
	if (r == -EEXIST)
		r = 0;
out:
	mutex_unlock(&vm->lock);
	return r;
}

/* ---- guest-physical memory seen from the kernel ---- */

/* Whether slots hold all of [@gpa, @gpa + @len), writable if @write. */
static int vm_check_range(struct xvcpu_vm *vm, u64 gpa, size_t len,
			  bool write)
{
	u64 end = gpa + len;

	if (end < gpa)
		return -ENOENT;
	while (gpa < end) {
		struct xvcpu_slot *slot = vm_find_slot(vm, gpa);

		if (!slot)
			return -ENOENT;
		if (write && (slot->flags & XVCPU_MEM_READONLY))
			return -EPERM;
		gpa = slot->gpa + slot->size;
	}
	return 0;
}

int xvcpu_vm_check_phys(struct xvcpu_vm *vm, u64 gpa, size_t len, bool write)
{
	int r;

	mutex_lock(&vm->lock);
	r = vm_check_range(vm, gpa, len, write);
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * Copy between @buf and guest-physical [@gpa, @gpa + @len), page by
 * page.  A read of a page not allocated yet gives zeros and allocates
 * nothing; a write allocates it (the guest maps it in EPT when it first
 * touches it: xvcpu_vm_populate()).  The whole range is checked first,
 * so only -ENOMEM can leave a write half done.
 */
static int vm_rw_phys(struct xvcpu_vm *vm, u64 gpa, void *buf, size_t len,
		      bool write)
{
	int r;

	mutex_lock(&vm->lock);
	r = vm_check_range(vm, gpa, len, write);
	while (!r && len) {
		struct xvcpu_slot *slot = vm_find_slot(vm, gpa);
		unsigned long i = (gpa - slot->gpa) >> PAGE_SHIFT;
		size_t off = offset_in_page(gpa);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		struct page *page;

		if (write) {
			page = slot_get_page(slot, i);
			if (!page) {
				r = -ENOMEM;
				break;
			}
			memcpy(page_address(page) + off, buf, n);
		} else {
			page = xa_load(&slot->pages, i);
			if (page)
				memcpy(buf, page_address(page) + off, n);
			else
				memset(buf, 0, n);
		}
		gpa += n;
		buf += n;
		len -= n;
	}
	mutex_unlock(&vm->lock);
	return r;
}

int xvcpu_vm_read_phys(struct xvcpu_vm *vm, u64 gpa, void *buf, size_t len)
{
	return vm_rw_phys(vm, gpa, buf, len, false);
}

int xvcpu_vm_write_phys(struct xvcpu_vm *vm, u64 gpa, const void *buf,
			size_t len)
{
	return vm_rw_phys(vm, gpa, (void *)buf, len, true);
}

static bool vm_overlaps(struct xvcpu_vm *vm, u64 gpa, u64 size)
{
	int i;

	for (i = 0; i < XVCPU_NR_MEMSLOTS; i++) {
		struct xvcpu_slot *s = &vm->slots[i];

		if (s->used && gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

/*
 * vm->lock held, as by every path that changes EPT (xvcpu_vm_populate()
 * for other slots included), so the tables cannot change under the
 * unmap; vCPUs still running on other CPUs are what the INVEPT is for.
 */
static int vm_delete_slot(struct xvcpu_vm *vm, struct xvcpu_slot *slot)
{
	struct ept_retired retired = {};

	if (!slot->used)
		return xvcpu_refuse(-ENOENT, "memory slot %ld is not in use",
				    (long)(slot - vm->slots));
	if (slot->creating)
		return xvcpu_refuse(-EBUSY, "memory slot %ld is being created",
				    (long)(slot - vm->slots));
	if (atomic_read(&slot->mmaps))
		return xvcpu_refuse(-EBUSY, "memory slot %ld is still mmapped; munmap it first",
				    (long)(slot - vm->slots));
	ept_unmap_range(&vm->ept, slot->gpa, slot->size, &retired);
	/*
	 * Running vCPUs take the IPI as an exit and flush before re-entry.
	 * Until every CPU has, they may still reach the slot's pages and
	 * walk the table pages the unmap emptied through cached entries
	 * (SDM Vol. 3C, chapter "VMX Support for Address Translation",
	 * section "Guidelines for Use of the INVEPT Instruction"): both go
	 * back to the allocator only now.
	 */
	vmx_invept_all_cpus(vm->eptp);
	ept_free_retired(&vm->ept, &retired);
	vm_free_slot_pages(slot);
	vm->mem_bytes -= slot->size;
	memset(slot, 0, sizeof(*slot));
	return 0;
}

int xvcpu_vm_set_memory_region(struct xvcpu_vm *vm,
			       struct xvcpu_memory_region *mr)
{
	u64 limit = (u64)xvcpu_max_memory_mb << 20;
	struct xvcpu_slot *slot;
	int r;

	if (mr->slot >= XVCPU_NR_MEMSLOTS)
		return xvcpu_refuse(-EINVAL, "memory slot %u out of range (0-%u)",
				    mr->slot, XVCPU_NR_MEMSLOTS - 1);
	if (mr->flags & ~XVCPU_MEM_READONLY)
		return xvcpu_refuse(-EINVAL, "unknown memory region flags %#x",
				    mr->flags);
	slot = &vm->slots[mr->slot];

	if (mr->memory_size == 0) {
		mutex_lock(&vm->lock);
		r = vm_delete_slot(vm, slot);
		mutex_unlock(&vm->lock);
		return r;
	}
	if (!PAGE_ALIGNED(mr->guest_phys_addr) || !PAGE_ALIGNED(mr->memory_size))
		return xvcpu_refuse(-EINVAL, "memory region %#llx+%#llx is not 4 KiB aligned",
				    mr->guest_phys_addr, mr->memory_size);
	if (mr->guest_phys_addr + mr->memory_size < mr->guest_phys_addr ||
	    mr->guest_phys_addr + mr->memory_size > EPT_GPA_LIMIT)
		return xvcpu_refuse(-EINVAL, "memory region %#llx+%#llx ends beyond 2^48",
				    mr->guest_phys_addr, mr->memory_size);

	mutex_lock(&vm->lock);
	if (slot->used) {
		r = xvcpu_refuse(-EEXIST, "memory slot %u is in use", mr->slot);
		goto out;
	}
	if (vm_overlaps(vm, mr->guest_phys_addr, mr->memory_size)) {
		r = xvcpu_refuse(-EEXIST, "region %#llx+%#llx overlaps another slot",
				 mr->guest_phys_addr, mr->memory_size);
		goto out;
	}
	if (mr->memory_size > limit - vm->mem_bytes) {
		r = xvcpu_refuse(-E2BIG, "VM memory would exceed max_memory_mb=%u",
				 xvcpu_max_memory_mb);
		goto out;
	}

	/* Pages come when first touched: see xvcpu_vm_populate() */
	slot->npages = mr->memory_size >> PAGE_SHIFT;
	xa_init(&slot->pages);
	slot->gpa = mr->guest_phys_addr;
	slot->size = mr->memory_size;
	slot->flags = mr->flags;
	r = 0;
	slot->used = true;
	slot->creating = true;
	vm->mem_bytes += slot->size;
	mr->mmap_offset = XVCPU_MMAP_SLOT_OFFSET(mr->slot);
out:
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * A new region stays reserved (no guest access, no mmap, no delete)
 * until its creator has told userspace of it: then it is made usable,
 * or (@keep false: the caller got -EFAULT) dropped again.
 */
void xvcpu_vm_finish_memory_region(struct xvcpu_vm *vm, u32 index, bool keep)
{
	struct xvcpu_slot *slot = &vm->slots[index];

	mutex_lock(&vm->lock);
	slot->creating = false;
	if (!keep) {
		vm->mem_bytes -= slot->size;
		memset(slot, 0, sizeof(*slot));
	}
	mutex_unlock(&vm->lock);
}

/* ---- mmap of guest memory ---- */

static void vm_mem_open(struct vm_area_struct *vma)
{
	struct xvcpu_slot *slot = vma->vm_private_data;

	atomic_inc(&slot->mmaps);
}

static void vm_mem_close(struct vm_area_struct *vma)
{
	struct xvcpu_slot *slot = vma->vm_private_data;

	atomic_dec(&slot->mmaps);
}

static vm_fault_t vm_mem_fault(struct vm_fault *vmf)
{
	struct xvcpu_vm *vm = vmf->vma->vm_file->private_data;
	struct xvcpu_slot *slot = vmf->vma->vm_private_data;
	/* The file offset of the page, less the slot's base offset */
	unsigned long i = vmf->pgoff &
		((XVCPU_MMAP_SLOT_OFFSET(1) >> PAGE_SHIFT) - 1);
	struct page *page = NULL;

	if (i >= slot->npages)
		return VM_FAULT_SIGBUS;
	mutex_lock(&vm->lock);
	page = slot_get_page(slot, i);
	if (page)
		get_page(page);
	mutex_unlock(&vm->lock);
	if (!page)
		return VM_FAULT_OOM;
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct vm_mem_ops = {
	.open = vm_mem_open,
	.close = vm_mem_close,
	.fault = vm_mem_fault,
};

int xvcpu_vm_mmap(struct xvcpu_vm *vm, struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 slot_off = off & (XVCPU_MMAP_SLOT_OFFSET(1) - 1);
	u64 len = vma->vm_end - vma->vm_start;
	u64 idx = off >> XVCPU_MMAP_SLOT_SHIFT;
	struct xvcpu_slot *slot;
	int r = -EINVAL;

	if (!(vma->vm_flags & VM_SHARED) || idx >= XVCPU_NR_MEMSLOTS)
		return xvcpu_refuse(-EINVAL, "guest memory mmap: MAP_SHARED at a slot offset");
	slot = &vm->slots[idx];

	mutex_lock(&vm->lock);
	if (slot->used && !slot->creating && slot_off < slot->size &&
	    len <= slot->size - slot_off) {
		xvcpu_vma_set_flags(vma, VM_DONTEXPAND | VM_DONTDUMP);
		vma->vm_ops = &vm_mem_ops;
		vma->vm_private_data = slot;
		atomic_inc(&slot->mmaps);
		r = 0;
	}
	mutex_unlock(&vm->lock);
	if (r)
		xvcpu_refuse(r, "mmap of %#llx bytes at slot %llu offset %#llx is outside it",
			     len, idx, slot_off);
	return r;
}
