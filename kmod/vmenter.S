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
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>

#include "../include/xvcpu/vmx.h"
#include "vmenter.h"

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

	.section .noinstr.text, "ax"

/*
 * int xvcpu_vmenter(unsigned long *gprs, unsigned long flags)
 *
 * Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME (or the VMWRITE of
 * HOST_RSP) failed; the VM-instruction error field then says why.
 * @flags: XVCPU_ENTER_* (vmenter.h).  Called with interrupts off and the
 * vCPU's VMCS current, from noinstr code (switch.c).
 *
 * Speculation hygiene, each step by the kernel's own alternative and
 * feature bit, as in KVM: CPU buffers cleared by VERW after the last
 * load of host data (CLEAR_CPU_BUFFERS); after the exit every register
 * holding a guest value cleared, the RSB refilled (RSB_VMEXIT, or one
 * entry with eIBRS: RSB_VMEXIT_LITE), SPEC_CTRL rewritten where legacy
 * IBRS needs it, branch history cleared (CLEAR_BHB_LOOP_ON_VMEXIT), all
 * before the first RET.
 */
SYM_FUNC_START(xvcpu_vmenter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* The flags and the gprs pointer, found on the stack after the exit */
	push	%rsi
	push	%rdi

	/* The exit returns on this very stack */
	mov	$VMCS_HOST_RSP, %eax
.Lvmwrite_rsp:
	vmwrite	%rsp, %rax
	jbe	.Lfail

	/* CF says which instruction: MOV and VERW leave it alone */
	bt	$XVCPU_ENTER_VMRESUME_BIT, %esi

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

	/* MDS, TAA, MMIO stale data, RFDS: no host data left in buffers */
	CLEAR_CPU_BUFFERS

	UNWIND_HINT_SAVE
	jc	.Lresume
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
	xor	%ebx, %ebx
	jmp	.Lclear

.Lfail:
	/* Also after a failed VMLAUNCH: guest values are in the registers */
	mov	$1, %ebx

.Lclear:
	/*
	 * No guest value stays in a register the host may speculate on,
	 * callee-saved ones included (their host values are popped below).
	 */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	/* The guest may have filled the return stack buffer */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	add	$8, %rsp		/* gprs */
	pop	%rsi			/* flags */

	/*
	 * Legacy IBRS protects only if written after the guest ran: the
	 * host's value (the guest has no SPEC_CTRL of its own), then a
	 * barrier so that no branch runs ahead of the write.
	 */
	bt	$XVCPU_ENTER_SPEC_CTRL_BIT, %esi
	jnc	.Lspec_ctrl_done
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	mov	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	mov	PER_CPU_VAR(x86_spec_ctrl_current + 4), %edx
	wrmsr
.Lspec_ctrl_done:
	lfence

	CLEAR_BRANCH_HISTORY_VMEXIT

	mov	%ebx, %eax
	xor	%esi, %esi
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(xvcpu_vmenter)
