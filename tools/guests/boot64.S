/* SPDX-License-Identifier: GPL-2.0 */
/*
 * boot64: a guest that boots itself from the x86 reset vector to 64-bit
 * mode, the way firmware does, on any number of vCPUs at once.
 *
 * The image is 64 KiB and belongs at guest-physical 0xffff0000, the top
 * of the first 4 GiB (xvcpu-run --reset-image puts it there; it may be
 * mapped read-only).  A new xvcpu vCPU starts in real mode at F000:FFF0
 * with CS base 0xffff0000 (SDM Vol. 3A 10.1.4), which is offset 0xfff0
 * of the image.  From there each vCPU, on its own:
 *
 *   real mode    reads its initial APIC id (CPUID.1:EBX[31:24]), loads
 *                the GDT below, sets CR0.PE (and NE, clears CD/NW)
 *   protected    far jump to flat 32-bit code, loads the data segments,
 *                writes its own page tables (4 GiB identity-mapped with
 *                2 MiB pages), loads CR3, sets CR4.PAE, EFER.LME (WRMSR),
 *                CR0.PG, and checks EFER.LMA
 *   long mode    far jump to the 64-bit code segment, loads the data
 *                segments and its stack, and computes a checksum of the
 *                image (64-bit FNV-1a seeded with its APIC id)
 *
 * and reports each stage with a 32-bit OUT to BOOT64_REPORT_PORT of
 * (APIC id << 8) | stage.  The result stage is followed by three OUTs to
 * BOOT64_DATA_PORT: the APIC id and the checksum's low and high halves.
 * It then prints one line on COM1 (holding a lock in shared memory, so
 * the lines of several vCPUs do not mix) and halts, unless the VMM set
 * the command word to BOOT64_CMD_STRESS: then it increments a shared
 * counter with LOCK XADD and writes its own memory until the VMM sets
 * the stop word, and reports what it did.  On an error it reports stage
 * BOOT64_STAGE_FAIL with a code and writes 0x40 + code to port 0xf4
 * (xvcpu-run's exit port).
 *
 * The APIC id picks everything a vCPU owns: its page tables and stack
 * (BOOT64_PERCPU), its report slot (BOOT64_SLOTS) and its memory for the
 * stress loop (BOOT64_OWN), so vCPUs of one VM boot concurrently from the
 * same image.  Guest-physical memory from 0 to 2 MiB must be RAM.
 *
 * This file is plain GNU as input (no C preprocessor directives, comments
 * in C style only) and position independent: absolute addresses are
 * written as BOOT64_IMAGE_BASE + (label - boot64_image), so the bytes do
 * not depend on where the file is linked.  The selftests .include it
 * into their own binary; tools/Makefile checks that the image linked at
 * two addresses is the same.  The layout constants are repeated for C in
 * boot64.h: change both together.
 */

	.equ	BOOT64_IMAGE_BASE,	0xffff0000
	.equ	BOOT64_IMAGE_SIZE,	0x10000
	.equ	BOOT64_MAX_VCPUS,	16

	.equ	BOOT64_REPORT_PORT,	0x510
	.equ	BOOT64_DATA_PORT,	0x514
	.equ	BOOT64_EXIT_PORT,	0xf4
	.equ	BOOT64_COM1_THR,	0x3f8
	.equ	BOOT64_COM1_LSR,	0x3fd
	.equ	BOOT64_LSR_THRE,	0x20

	.equ	BOOT64_STAGE_RESET,	1
	.equ	BOOT64_STAGE_PROTECTED,	2
	.equ	BOOT64_STAGE_TABLES,	3
	.equ	BOOT64_STAGE_PAE,	4
	.equ	BOOT64_STAGE_LME,	5
	.equ	BOOT64_STAGE_PAGING,	6
	.equ	BOOT64_STAGE_LONG,	7
	.equ	BOOT64_STAGE_SEGMENTS,	8
	.equ	BOOT64_STAGE_RESULT,	9
	.equ	BOOT64_STAGE_STRESS,	10
	.equ	BOOT64_STAGE_FAIL,	0xee

	.equ	BOOT64_FAIL_ID,		1	/* APIC id >= BOOT64_MAX_VCPUS */
	.equ	BOOT64_FAIL_LMA,	2	/* EFER.LMA clear after CR0.PG */
	.equ	BOOT64_FAIL_MEMORY,	3	/* own memory changed under us */

	/* Shared page: what the VMM sets, and what all vCPUs share. */
	.equ	BOOT64_SHARED,		0x1000
	.equ	BOOT64_CMD,		BOOT64_SHARED + 0x00	/* u32, VMM */
	.equ	BOOT64_STOP,		BOOT64_SHARED + 0x04	/* u32, VMM */
	.equ	BOOT64_LOCK,		BOOT64_SHARED + 0x08	/* u32 */
	.equ	BOOT64_BOOTED,		BOOT64_SHARED + 0x0c	/* u32 */
	.equ	BOOT64_COUNTER,		BOOT64_SHARED + 0x10	/* u64 */
	.equ	BOOT64_CMD_STRESS,	1

	/* Report slots, one per APIC id. */
	.equ	BOOT64_SLOTS,		0x1100
	.equ	BOOT64_SLOT_SHIFT,	6
	.equ	BOOT64_SLOT_STAGE,	0x00	/* u32 */
	.equ	BOOT64_SLOT_APIC_ID,	0x04	/* u32 */
	.equ	BOOT64_SLOT_CHECKSUM,	0x08	/* u64 */
	.equ	BOOT64_SLOT_ITERATIONS,	0x10	/* u64, kept current */
	.equ	BOOT64_SLOT_XADD_SUM,	0x18	/* u64: sum of LOCK XADD results */
	.equ	BOOT64_SLOT_ERRORS,	0x20	/* u64 */
	.equ	BOOT64_SLOT_INTERLEAVED, 0x28	/* u64: others counted between */

	/* Per vCPU: PML4, PDPT, 4 PDs, stack up to the end. */
	.equ	BOOT64_PERCPU,		0x10000
	.equ	BOOT64_PERCPU_SHIFT,	15
	.equ	BOOT64_PDPT,		0x1000
	.equ	BOOT64_PD,		0x2000
	.equ	BOOT64_STACK_TOP,	0x8000

	/* Per vCPU memory the stress loop writes: 8192 u64 slots. */
	.equ	BOOT64_OWN,		0x100000
	.equ	BOOT64_OWN_SHIFT,	16
	.equ	BOOT64_OWN_WORDS,	8192
	.equ	BOOT64_ID_SHIFT,	48	/* own word: id << 48 | iteration */

	.equ	BOOT64_SEL_CODE32,	0x08
	.equ	BOOT64_SEL_DATA,	0x10
	.equ	BOOT64_SEL_CODE64,	0x18

	.equ	X86_CR0_PE,		0x00000001
	.equ	X86_CR0_NE,		0x00000020
	.equ	X86_CR0_NW,		0x20000000
	.equ	X86_CR0_CD,		0x40000000
	.equ	X86_CR0_PG,		0x80000000
	.equ	X86_CR4_PAE,		0x00000020
	.equ	MSR_EFER,		0xc0000080
	.equ	EFER_LME,		0x00000100
	.equ	EFER_LMA,		0x00000400
	.equ	PTE_P_RW,		0x003
	.equ	PTE_P_RW_PS,		0x083

/* OUT (ESI << 8) | stage to the report port; clobbers EAX and EDX. */
	.macro	boot64_report stage
	mov	%esi, %eax
	shl	$8, %eax
	or	$\stage, %eax
	mov	$BOOT64_REPORT_PORT, %dx
	out	%eax, %dx
	.endm

	.balign	16, 0
boot64_image:

/* ---- data: GDT (accessed bits preset: the image may be read-only) ---- */

boot64_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08: code, 32-bit, 4 GiB */
	.quad	0x00cf93000000ffff	/* 0x10: data, 4 GiB */
	.quad	0x00af9b000000ffff	/* 0x18: code, 64-bit */
boot64_gdt_end:

	.balign	8, 0
	.word	0
boot64_gdtr:
	.word	boot64_gdt_end - boot64_gdt - 1
	.long	BOOT64_IMAGE_BASE + (boot64_gdt - boot64_image)

boot64_msg_head:
	.asciz	"xvcpu boot64: vCPU "
boot64_msg_tail:
	.asciz	": real -> protected -> long mode, checksum 0x"
boot64_hex:
	.ascii	"0123456789abcdef"

/* ---- 32-bit protected mode, paging off; ESI = APIC id ---- */

	.code32
	.balign	16, 0
boot64_pm32:
	mov	$BOOT64_SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	boot64_report BOOT64_STAGE_PROTECTED

	/* EBP = this vCPU's page tables (memory starts zeroed) */
	mov	%esi, %ebp
	shl	$BOOT64_PERCPU_SHIFT, %ebp
	add	$BOOT64_PERCPU, %ebp

	/* PML4[0] -> PDPT */
	lea	BOOT64_PDPT + PTE_P_RW(%ebp), %eax
	mov	%eax, (%ebp)
	movl	$0, 4(%ebp)

	/* PDPT[0..3] -> the four page directories */
	lea	BOOT64_PD + PTE_P_RW(%ebp), %eax
	lea	BOOT64_PDPT(%ebp), %edi
	mov	$4, %ecx
1:	mov	%eax, (%edi)
	movl	$0, 4(%edi)
	add	$0x1000, %eax
	add	$8, %edi
	dec	%ecx
	jnz	1b

	/* 2048 2 MiB pages: guest-linear = guest-physical below 4 GiB */
	lea	BOOT64_PD(%ebp), %edi
	mov	$PTE_P_RW_PS, %eax
	mov	$2048, %ecx
2:	mov	%eax, (%edi)
	movl	$0, 4(%edi)
	add	$0x200000, %eax
	add	$8, %edi
	dec	%ecx
	jnz	2b
	boot64_report BOOT64_STAGE_TABLES

	mov	%ebp, %cr3
	mov	%cr4, %eax
	or	$X86_CR4_PAE, %eax
	mov	%eax, %cr4
	boot64_report BOOT64_STAGE_PAE

	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	boot64_report BOOT64_STAGE_LME

	/* Paging on with EFER.LME: IA-32e mode, still 32-bit code */
	mov	%cr0, %eax
	or	$X86_CR0_PG, %eax
	mov	%eax, %cr0

	mov	$MSR_EFER, %ecx
	rdmsr
	test	$EFER_LMA, %eax
	jnz	3f
	mov	$BOOT64_FAIL_LMA, %ebx
	jmp	boot64_fail32
3:	boot64_report BOOT64_STAGE_PAGING

	ljmpl	$BOOT64_SEL_CODE64, $(BOOT64_IMAGE_BASE + (boot64_lm64 - boot64_image))

/* EBX = failure code: report it, exit through the exit port, halt. */
boot64_fail32:
	boot64_report BOOT64_STAGE_FAIL
	mov	$BOOT64_DATA_PORT, %dx
	mov	%ebx, %eax
	out	%eax, %dx
	lea	0x40(%ebx), %eax
	out	%al, $BOOT64_EXIT_PORT
1:	hlt
	jmp	1b

/* ---- 64-bit mode ---- */

	.code64
	.balign	16, 0
boot64_lm64:
	/* Upper halves are undefined after the mode switch: zero them */
	mov	%esi, %esi
	mov	%ebp, %ebp
	boot64_report BOOT64_STAGE_LONG

	mov	$BOOT64_SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	lea	BOOT64_STACK_TOP(%rbp), %rsp
	boot64_report BOOT64_STAGE_SEGMENTS

	/* R12 = APIC id, R13 = report slot */
	mov	%rsi, %r12
	mov	%esi, %r13d
	shl	$BOOT64_SLOT_SHIFT, %r13d
	add	$BOOT64_SLOTS, %r13d

	/* RBX = FNV-1a 64 of the image, offset basis ^ APIC id */
	movabs	$0xcbf29ce484222325, %rax
	xor	%r12, %rax
	movabs	$0x100000001b3, %r8
	mov	$BOOT64_IMAGE_BASE, %edi
	mov	$BOOT64_IMAGE_SIZE, %ecx
1:	movzbl	(%rdi), %edx
	xor	%rdx, %rax
	imul	%r8, %rax
	inc	%rdi
	dec	%ecx
	jnz	1b
	mov	%rax, %rbx

	mov	%r12d, BOOT64_SLOT_APIC_ID(%r13)
	mov	%rbx, BOOT64_SLOT_CHECKSUM(%r13)
	movl	$BOOT64_STAGE_RESULT, BOOT64_SLOT_STAGE(%r13)
	boot64_report BOOT64_STAGE_RESULT
	mov	$BOOT64_DATA_PORT, %dx
	mov	%r12d, %eax
	out	%eax, %dx
	mov	%ebx, %eax
	out	%eax, %dx
	mov	%rbx, %rax
	shr	$32, %rax
	out	%eax, %dx
	lock incl BOOT64_BOOTED

	/* One line on COM1, under the print lock */
2:	mov	$1, %eax
	xchg	%eax, BOOT64_LOCK
	test	%eax, %eax
	jz	3f
	pause
	jmp	2b
3:	lea	boot64_msg_head(%rip), %rdi
	call	boot64_puts
	mov	%r12, %rax
	call	boot64_putdec
	lea	boot64_msg_tail(%rip), %rdi
	call	boot64_puts
	mov	%rbx, %rax
	call	boot64_puthex
	mov	$10, %al
	call	boot64_putc
	movl	$0, BOOT64_LOCK

	cmpl	$BOOT64_CMD_STRESS, BOOT64_CMD
	jne	boot64_halt

/*
 * The stress loop, until the VMM sets BOOT64_STOP.  Iteration i adds 1 to
 * the shared counter (R9 sums the values LOCK XADD returned, R11 counts
 * the times another vCPU counted since this one last did) and writes
 * id << 48 | i to own word i % 8192, after checking that the word still
 * holds what iteration i - 8192 wrote (R10 counts mismatches).
 */
	mov	%r12d, %r14d
	shl	$BOOT64_OWN_SHIFT, %r14d
	add	$BOOT64_OWN, %r14d
	mov	%r12, %rsi
	shl	$BOOT64_ID_SHIFT, %rsi		/* RSI = id << 48 */
	xor	%r15d, %r15d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	mov	$-2, %rbx			/* no previous XADD result */
4:	cmpl	$0, BOOT64_STOP
	jne	6f
	mov	$1, %eax
	lock xadd %rax, BOOT64_COUNTER
	add	%rax, %r9
	lea	1(%rbx), %rcx
	cmp	%rcx, %rax
	je	5f
	inc	%r11
5:	mov	%rax, %rbx

	mov	%r15d, %edx
	and	$BOOT64_OWN_WORDS - 1, %edx
	lea	(%r14, %rdx, 8), %rdi
	xor	%ecx, %ecx			/* expected: 0 before wrapping */
	mov	%r15, %rax
	sub	$BOOT64_OWN_WORDS, %rax
	jb	7f
	lea	(%rax, %rsi), %rcx
7:	cmp	%rcx, (%rdi)
	je	8f
	inc	%r10
8:	lea	(%r15, %rsi), %rax
	mov	%rax, (%rdi)
	inc	%r15
	mov	%r15, BOOT64_SLOT_ITERATIONS(%r13)
	jmp	4b

6:	mov	%r9, BOOT64_SLOT_XADD_SUM(%r13)
	mov	%r10, BOOT64_SLOT_ERRORS(%r13)
	mov	%r11, BOOT64_SLOT_INTERLEAVED(%r13)
	movl	$BOOT64_STAGE_STRESS, BOOT64_SLOT_STAGE(%r13)
	mov	%r12d, %esi
	boot64_report BOOT64_STAGE_STRESS
	mov	$BOOT64_DATA_PORT, %dx
	mov	%r15d, %eax
	out	%eax, %dx
	mov	%r15, %rax
	shr	$32, %rax
	out	%eax, %dx
	mov	%r10d, %eax
	out	%eax, %dx
	test	%r10, %r10
	jz	boot64_halt
	mov	$BOOT64_FAIL_MEMORY, %ebx
	boot64_report BOOT64_STAGE_FAIL
	mov	$BOOT64_DATA_PORT, %dx
	mov	%ebx, %eax
	out	%eax, %dx
	lea	0x40(%ebx), %eax
	out	%al, $BOOT64_EXIT_PORT

boot64_halt:
	hlt
	jmp	boot64_halt

/* COM1 output.  putc: AL; clobbers EDX, AH. */
boot64_putc:
	mov	%al, %ah
	mov	$BOOT64_COM1_LSR, %dx
1:	in	%dx, %al
	test	$BOOT64_LSR_THRE, %al
	jz	1b
	mov	$BOOT64_COM1_THR, %dx
	mov	%ah, %al
	out	%al, %dx
	ret

/* RDI = NUL-terminated string; clobbers RAX, RDX, RDI. */
boot64_puts:
1:	mov	(%rdi), %al
	test	%al, %al
	jz	2f
	call	boot64_putc
	inc	%rdi
	jmp	1b
2:	ret

/* RAX (< 100) in decimal; clobbers RAX, RCX, RDX. */
boot64_putdec:
	xor	%edx, %edx
	mov	$10, %ecx
	div	%ecx
	mov	%edx, %ecx
	test	%eax, %eax
	jz	1f
	add	$0x30, %al
	call	boot64_putc
1:	mov	%cl, %al
	add	$0x30, %al
	jmp	boot64_putc

/* RAX as 16 hex digits; clobbers RAX, RCX, RDX, RDI, R8. */
boot64_puthex:
	mov	%rax, %r8
	mov	$16, %ecx
	lea	boot64_hex(%rip), %rdi
1:	rol	$4, %r8
	mov	%r8d, %eax
	and	$0xf, %eax
	mov	(%rdi, %rax), %al
	call	boot64_putc
	dec	%ecx
	jnz	1b
	ret

/* ---- real mode, at reset: CS = F000 (base 0xffff0000) ---- */

	.code16
	.org	boot64_image + 0xff00
boot64_real16:
	cli
	cld
	mov	$1, %eax
	cpuid
	shr	$24, %ebx
	mov	%ebx, %esi
	boot64_report BOOT64_STAGE_RESET
	cmp	$BOOT64_MAX_VCPUS, %esi
	jae	1f

	lgdtl	%cs:(boot64_gdtr - boot64_image)
	mov	%cr0, %eax
	and	$~(X86_CR0_CD | X86_CR0_NW), %eax
	or	$(X86_CR0_PE | X86_CR0_NE), %eax
	mov	%eax, %cr0
	ljmpl	$BOOT64_SEL_CODE32, $(BOOT64_IMAGE_BASE + (boot64_pm32 - boot64_image))

1:	boot64_report BOOT64_STAGE_FAIL
	mov	$BOOT64_DATA_PORT, %dx
	mov	$BOOT64_FAIL_ID, %eax
	out	%eax, %dx
	mov	$(0x40 + BOOT64_FAIL_ID), %al
	out	%al, $BOOT64_EXIT_PORT
2:	hlt
	jmp	2b

/* The reset vector, 16 bytes below 4 GiB */
	.org	boot64_image + 0xfff0
boot64_reset:
	jmp	boot64_real16
	.org	boot64_image + BOOT64_IMAGE_SIZE
boot64_image_end:

	.code64
