// SPDX-License-Identifier: GPL-2.0
/*
 * Objects coming and going: system, VM and vCPU fds opened, adopted into
 * the model, closed; memory slots kept or deleted again; the model's
 * entries forgotten once the kernel has freed what they stand for.
 */
#include <fcntl.h>

#include "fuzz.h"

/* Forget objects the kernel has freed; unmap code of VMs nobody uses. */
void gc(void)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		struct fz_vcpu *v = &fz.vcpus[i];

		if (!v->used || v->fd >= 0 || v->runner >= 0 || vcpu_mapped(i))
			continue;
		v->used = false;
		fz.vms[v->vm].ids &= ~(1U << v->id);
		fz.vms[v->vm].nr_vcpus--;
	}
	for (i = 0; i < NR_VMS; i++) {
		struct fz_vm *vm = &fz.vms[i];

		if (!vm->used || vm->fd >= 0 || vm->nr_vcpus)
			continue;
		if (vm->code) {
			munmap(vm->code, PROG_SLOT_SIZE);
			count_call();
			vm->code = NULL;
		}
		if (!vm_mapped(i))
			vm->used = false;
	}
}

long do_ioctl(int fd, unsigned long cmd, unsigned long arg, int *err)
{
	long ret = ioctl(fd, cmd, arg);

	*err = errno;
	count_call();
	return ret;
}

void do_close(int fd)
{
	if (close(fd))
		fail("close(%d): %s", fd, strerror(errno));
	count_call();
}

/* SET_MEMORY_REGION that must succeed, on a VM whose model is exact. */
static bool region_set(int vmi, uint32_t slot, uint64_t gpa, uint64_t size)
{
	struct xvcpu_memory_region mr;
	struct expect e;
	long ret;
	int err;

	memset(&mr, 0, sizeof(mr));
	mr.slot = slot;
	mr.guest_phys_addr = gpa;
	mr.memory_size = size;
	exp_init(&e);
	e.ok = 0;
	ret = do_ioctl(fz.vms[vmi].fd, XVCPU_SET_MEMORY_REGION,
		       (uintptr_t)&mr, &err);
	if (!check(&e, ret, err, "SET_MEMORY_REGION (setup)"))
		return false;
	if (size && mr.mmap_offset != XVCPU_MMAP_SLOT_OFFSET(slot))
		fail("SET_MEMORY_REGION: mmap_offset %#llx for slot %u",
		     (unsigned long long)mr.mmap_offset, slot);
	region_apply(vmi, &mr);
	return true;
}

/*
 * A slot that is too large to keep: touch its last page through a
 * mapping, then delete it.
 */
static void region_transient(int vmi, uint32_t slot)
{
	struct fz_vm *vm = &fz.vms[vmi];
	uint64_t size = vm->slots[slot].size;
	volatile char *p;

	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, vm->fd,
		 XVCPU_MMAP_SLOT_OFFSET(slot) + size - PG);
	count_call();
	if (p == MAP_FAILED) {
		fail("mmap of the last page of slot %u (%#llx bytes): %s",
		     slot, (unsigned long long)size, strerror(errno));
	} else {
		p[PG - 1] = p[0] + 1;
		munmap((void *)p, PG);
		count_call();
	}
	region_set(vmi, slot, 0, 0);
}

void region_apply(int vmi, const struct xvcpu_memory_region *mr)
{
	struct fz_vm *vm = &fz.vms[vmi];
	struct fz_slot *s = &vm->slots[mr->slot];

	if (!mr->memory_size) {
		vm->mem_bytes -= s->size;
		memset(s, 0, sizeof(*s));
		return;
	}
	s->used = true;
	s->flags = mr->flags;
	s->gpa = mr->guest_phys_addr;
	s->size = mr->memory_size;
	vm->mem_bytes += s->size;
	if ((s->size > SLOT_KEEP_MAX || vm->mem_bytes > VM_KEEP_MAX) &&
	    vm->fd >= 0)
		region_transient(vmi, mr->slot);
}

/* A new VM fd: keep it (a prepared VM has the program in slot 0). */
void adopt_vm(int fd, bool prepare)
{
	int i = FREE_ENTRY(fz.vms);
	struct fz_vm *vm;
	void *mem;

	if (i < 0) {
		do_close(fd);
		return;
	}
	vm = &fz.vms[i];
	memset(vm, 0, sizeof(*vm));
	vm->used = true;
	vm->fd = fd;
	vlog("VM %d: fd %d%s", i, fd, prepare ? ", prepared" : "");
	if (!prepare)
		return;
	if (!region_set(i, 0, 0, PROG_SLOT_SIZE))
		return;
	mem = mmap(NULL, PROG_SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, XVCPU_MMAP_SLOT_OFFSET(0));
	count_call();
	if (mem == MAP_FAILED) {
		fail("mmap of slot 0: %s", strerror(errno));
		return;
	}
	vm->code = mem;
	prog_write(mem);
}

void adopt_vcpu(int vmi, unsigned int id, int fd, bool init,
		bool map_run)
{
	int i = FREE_ENTRY(fz.vcpus);
	struct fz_vcpu *v;
	void *run;

	if (i < 0) {
		do_close(fd);
		return;
	}
	v = &fz.vcpus[i];
	v->used = true;
	v->fd = fd;
	v->vm = vmi;
	v->id = id;
	v->runner = -1;
	/* A new vCPU: nothing queued, the supported CPUID table */
	v->irq = v->nmi = Q_NO;
	v->cpuid_lost = false;
	v->cpuid_nent = fz.supported.nent;
	memcpy(v->cpuid, fz.supported.entries,
	       fz.supported.nent * sizeof(v->cpuid[0]));
	fz.vms[vmi].ids |= 1U << id;
	fz.vms[vmi].nr_vcpus++;
	vlog("vCPU %d: VM %d id %u fd %d", i, vmi, id, fd);
	if (init && fz.vms[vmi].code)
		program_reset_main(i, false, false);
	if (!map_run)
		return;
	/* As a VMM does: the run page, mapped once */
	run = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	count_call();
	if (run == MAP_FAILED) {
		fail("mmap of a new vCPU's run page: %s", strerror(errno));
	} else if (!map_add(MAP_RUN, i, 0, run, 1, PROT_READ | PROT_WRITE,
			    -1)) {
		munmap(run, PG);
		count_call();
	}
}

void op_open_sys(struct rng *r)
{
	int flags = rng_chance(r, 20) ? O_RDONLY : O_RDWR;
	int i, fd;

	fd = open(XVCPU_DEV, flags | O_CLOEXEC);
	count_call();
	if (fd < 0) {
		fail("open(%s): %s", XVCPU_DEV, strerror(errno));
		return;
	}
	for (i = 0; i < NR_SYS; i++) {
		if (fz.sys[i] < 0) {
			fz.sys[i] = fd;
			return;
		}
	}
	do_close(fd);
}

void op_close_sys(struct rng *r)
{
	int i = pick_sys(r);

	if (i < 0)
		return;
	do_close(fz.sys[i]);
	fz.sys[i] = -1;
}

void op_close_vm(struct rng *r)
{
	int i = pick_vm(r);

	if (i < 0)
		return;
	vlog("close VM %d", i);
	do_close(fz.vms[i].fd);
	fz.vms[i].fd = -1;
	gc();
}

void op_close_vcpu(struct rng *r)
{
	int i = pick_vcpu(r), fd;
	bool dup_first = rng_chance(r, 20);

	if (i < 0)
		return;
	vlog("close vCPU %d%s", i, dup_first ? " (after dup)" : "");
	if (dup_first) {
		fd = fcntl(fz.vcpus[i].fd, F_DUPFD_CLOEXEC, 0);
		count_call();
		if (fd < 0) {
			fail("dup of a vCPU fd: %s", strerror(errno));
			return;
		}
		do_close(fz.vcpus[i].fd);
		fz.vcpus[i].fd = fd;
		return;
	}
	do_close(fz.vcpus[i].fd);
	fz.vcpus[i].fd = -1;
	gc();
}

/* A vCPU id: the few ids in use mostly, the last one, or anything. */
unsigned long gen_vcpu_id(struct rng *r)
{
	unsigned int c = rng_below(r, 10);

	if (c < 7)
		return rng_below(r, VCPU_IDS_USED);
	if (c == 7)
		return fz.max_vcpus - 1;
	return rng_value(r);
}

/* Wait for runners that alone keep vCPU @id of @vmi alive. */
void vcpu_id_settle(int vmi, unsigned long id)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		struct fz_vcpu *v = &fz.vcpus[i];

		if (v->used && v->vm == vmi && v->id == id && v->fd < 0 &&
		    v->runner >= 0)
			runner_join(&fz.runners[v->runner]);
	}
}
