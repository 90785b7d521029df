/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark guest: one flat real-mode image, the same bytes under
 * xvcpu and KVM.  It is copied to GUEST_LOAD and entered with CS = 0 at
 * one of the entry points below, every general register zero.  Every loop
 * runs until the VMM stops entering it.  Only relative jumps: the image
 * does not care where the host binary has it.
 */
#include "bench.h"

	.code16
	.section .rodata.guest, "a"

	.globl	guest_start, guest_end
	.globl	guest_out, guest_hlt, guest_mmio
	.globl	guest_mmio_insn, guest_mmio_insn_end
	.globl	guest_cpuid, guest_vmcall

guest_start:

/* Port I/O: OUT to the VMM, over and over. */
guest_out:
	mov	$BENCH_PORT, %dx
1:	out	%al, %dx
	jmp	1b

/* HLT: each one exits to the VMM (no interrupt controller in either). */
guest_hlt:
1:	hlt
	jmp	1b

/* MMIO: a byte write to a guest-physical address without memory. */
guest_mmio:
	mov	$(BENCH_MMIO_GPA >> 4), %ax
	mov	%ax, %es
guest_mmio_insn:
	movb	%al, %es:0
guest_mmio_insn_end:
	jmp	guest_mmio_insn

/*
 * CPUID, handled in the kernel: the guest times BENCH_CPUID_BATCH of them
 * with RDTSC (which does not exit) and reports the ticks with one OUT.
 */
guest_cpuid:
2:	rdtsc
	mov	%eax, %esi
	mov	$BENCH_CPUID_BATCH, %di
1:	xor	%eax, %eax
	cpuid
	dec	%di
	jnz	1b
	rdtsc
	sub	%esi, %eax
	mov	$BENCH_PORT, %dx
	out	%eax, %dx
	jmp	2b

/*
 * VMCALL with the arguments of KVM_HC_MAP_GPA_RANGE, which KVM passes to
 * userspace when asked to (KVM_CAP_EXIT_HYPERCALL); registers are set
 * again each time since the return value lands in RAX.
 */
guest_vmcall:
1:	mov	$BENCH_HC_NR, %eax
	mov	$BENCH_HC_GPA, %ebx
	mov	$BENCH_HC_NPAGES, %ecx
	xor	%edx, %edx
	vmcall
	jmp	1b

guest_end:

	.section .note.GNU-stack, "", @progbits
