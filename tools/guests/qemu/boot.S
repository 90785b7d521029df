/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A multiboot shim that lets QEMU (TCG, no VMX) run an example guest in
 * the state libxvcpu's mode setup produces, to check the guests and the
 * GDT, TSS and page tables on an emulated CPU without the kernel module.
 *
 * QEMU enters here in flat 32-bit protected mode.  The shim copies the
 * tables area (TABLES_BIN, written by mkstate) to STATE_TABLES_GPA and
 * the guest (GUEST_BIN) to GUEST_LOAD, then loads the registers from
 * state.h the way a VM entry would and jumps to the guest.  A mismatch
 * it can see (EFER after paging is on) exits through port 0xf4 with
 * SHIM_FAILED.
 */
#include "state.h"

#define MB_MAGIC	0x1badb002
#define EXIT_PORT	0xf4
#define SHIM_FAILED	0x7f
#define MSR_EFER	0xc0000080
#define EFER_LMA	(1 << 10)
#define TSS_BUSY	0x02		/* in the descriptor's type byte */
#define SHIM_BASE	0x100000	/* where boot.lds links the shim */

	.section .multiboot, "a"
	.align	4
	.long	MB_MAGIC, 0, -MB_MAGIC

	.text
	.code32
	.globl	_start
_start:
	cli
	cld
	mov	$tables_start, %esi
	mov	$STATE_TABLES_GPA, %edi
	mov	$(tables_end - tables_start), %ecx
	rep movsb
	mov	$guest_start, %esi
	mov	$GUEST_LOAD, %edi
	mov	$(guest_end - guest_start), %ecx
	rep movsb
	lidt	idtr

#if defined(STATE_MODE_REAL)
	/* Through 16-bit protected mode (CS base = the shim) to real mode. */
	lgdt	shim_gdtr
	ljmp	$0x08, $(pm16 - SHIM_BASE)
	.code16
pm16:
	mov	$0x10, %ax		/* 64 KiB data segments */
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%ax, %ss
	mov	$STATE_CR0, %eax	/* PE = 0 */
	mov	%eax, %cr0
	mov	$STATE_DS_SEL, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$STATE_SS_SEL, %ax
	mov	%ax, %ss
	mov	$STATE_RSP, %sp
	pushw	$STATE_RFLAGS
	popfw
	xor	%eax, %eax
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%ebp, %ebp
	ljmp	$STATE_CS_SEL, $STATE_RIP
	.code32
#else
	lgdt	gdtr
	/* LTR wants an available TSS and marks it busy again. */
	andb	$~TSS_BUSY, STATE_GDT_BASE + STATE_TR_SEL + 5
	mov	$STATE_CR4, %eax
	mov	%eax, %cr4
	mov	$STATE_CR3, %eax
	mov	%eax, %cr3
#if defined(STATE_MODE_LONG)
	mov	$MSR_EFER, %ecx
	mov	$(STATE_EFER & ~EFER_LMA), %eax	/* the CPU sets LMA */
	xor	%edx, %edx
	wrmsr
#endif
	mov	$STATE_CR0, %eax
	mov	%eax, %cr0
	ljmp	$STATE_CS_SEL, $in_mode

#if defined(STATE_MODE_LONG)
	.code64
#endif
in_mode:
#if defined(STATE_MODE_LONG)
	mov	$MSR_EFER, %ecx
	rdmsr
	cmp	$STATE_EFER, %eax
	jne	fail
#endif
	mov	$STATE_DS_SEL, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$STATE_SS_SEL, %ax
	mov	%ax, %ss
	mov	$STATE_TR_SEL, %ax
	ltr	%ax
	mov	$STATE_RSP, %esp
	push	$STATE_RFLAGS
	popf
	push	$STATE_RIP
	xor	%eax, %eax
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%ebp, %ebp
	ret				/* to RIP, leaving RSP as set */

fail:
	mov	$SHIM_FAILED, %al
	mov	$EXIT_PORT, %dx
	out	%al, %dx
	hlt
	.code32
#endif

	.section .rodata
	.align	8
idtr:
	.word	STATE_IDT_LIMIT
	.long	STATE_IDT_BASE
gdtr:
	.word	STATE_GDT_LIMIT
	.long	STATE_GDT_BASE
shim_gdtr:
	.word	shim_gdt_end - shim_gdt - 1
	.long	shim_gdt
	.align	8
shim_gdt:
	.quad	0
	.quad	0x00009b100000ffff	/* 0x08: 16-bit code, base SHIM_BASE */
	.quad	0x000093000000ffff	/* 0x10: 16-bit data, base 0 */
shim_gdt_end:

	.align	16
tables_start:
	.incbin	TABLES_BIN
tables_end:
guest_start:
	.incbin	GUEST_BIN
guest_end:
