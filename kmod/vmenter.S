/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM entry and exit: load the guest's general registers, VMLAUNCH or
 * VMRESUME, and on VM exit store them back (SDM Vol. 3C 27 and 28: the
 * VMCS switches RSP, RIP, RFLAGS and the segment and control registers,
 * but not the general registers).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>

#include "../include/xvcpu/vmx.h"

/* Offsets in the gprs array: x86 register numbers (enum in xvcpu.h) */
#define G_RAX	(0 * 8)
#define G_RCX	(1 * 8)
#define G_RDX	(2 * 8)
#define G_RBX	(3 * 8)
#define G_RBP	(5 * 8)
#define G_RSI	(6 * 8)
#define G_RDI	(7 * 8)
#define G_R8	(8 * 8)
#define G_R9	(9 * 8)
#define G_R10	(10 * 8)
#define G_R11	(11 * 8)
#define G_R12	(12 * 8)
#define G_R13	(13 * 8)
#define G_R14	(14 * 8)
#define G_R15	(15 * 8)

	.text

/*
 * int xvcpu_vmenter(unsigned long *gprs, unsigned long launched)
 *
 * Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME (or the VMWRITE of
 * HOST_RSP) failed; the VM-instruction error field then says why.
 * Called with interrupts off and the vCPU's VMCS current.
 */
SYM_FUNC_START(xvcpu_vmenter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* The gprs pointer, found at 0(%rsp) again after the exit */
	push	%rdi

	/* The exit returns on this very stack */
	mov	$VMCS_HOST_RSP, %eax
.Lvmwrite_rsp:
	vmwrite	%rsp, %rax
	jbe	.Lfail

	/* ZF says which instruction: MOVs below leave the flags alone */
	test	%rsi, %rsi

	mov	G_RAX(%rdi), %rax
	mov	G_RCX(%rdi), %rcx
	mov	G_RDX(%rdi), %rdx
	mov	G_RBX(%rdi), %rbx
	mov	G_RBP(%rdi), %rbp
	mov	G_RSI(%rdi), %rsi
	mov	G_R8(%rdi), %r8
	mov	G_R9(%rdi), %r9
	mov	G_R10(%rdi), %r10
	mov	G_R11(%rdi), %r11
	mov	G_R12(%rdi), %r12
	mov	G_R13(%rdi), %r13
	mov	G_R14(%rdi), %r14
	mov	G_R15(%rdi), %r15
	mov	G_RDI(%rdi), %rdi

	UNWIND_HINT_SAVE
	jnz	.Lresume
.Lvmlaunch:
	vmlaunch
	jmp	.Lfail
.Lresume:
	vmresume
	jmp	.Lfail
	/* VMX turned off under the entry (the system going down): #UD, failed */
	_ASM_EXTABLE(.Lvmwrite_rsp, .Lfail)
	_ASM_EXTABLE(.Lvmlaunch, .Lfail)
	_ASM_EXTABLE(.Lresume, .Lfail)

/* HOST_RIP: the processor lands here on every VM exit. */
SYM_INNER_LABEL(xvcpu_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	push	%rax
	mov	8(%rsp), %rax
	mov	%rcx, G_RCX(%rax)
	mov	%rdx, G_RDX(%rax)
	mov	%rbx, G_RBX(%rax)
	mov	%rbp, G_RBP(%rax)
	mov	%rsi, G_RSI(%rax)
	mov	%rdi, G_RDI(%rax)
	mov	%r8, G_R8(%rax)
	mov	%r9, G_R9(%rax)
	mov	%r10, G_R10(%rax)
	mov	%r11, G_R11(%rax)
	mov	%r12, G_R12(%rax)
	mov	%r13, G_R13(%rax)
	mov	%r14, G_R14(%rax)
	mov	%r15, G_R15(%rax)
	popq	G_RAX(%rax)
	xor	%eax, %eax
	jmp	.Lout

.Lfail:
	mov	$1, %eax

.Lout:
	/* No guest value stays in a register the host may speculate on */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	/* The guest may have filled the return stack buffer */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	add	$8, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(xvcpu_vmenter)
