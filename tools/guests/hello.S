/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The example guest: prints "Hello from xvcpu: <mode> mode" on COM1 and
 * exits with status 0 by writing to port 0xf4 (see xvcpu-run).
 *
 * One source for the three modes: build with -DGUEST_MODE_REAL,
 * -DGUEST_MODE_PROTECTED or -DGUEST_MODE_LONG.  The print loop uses only
 * instructions whose encoding follows the mode's default sizes (lodsb,
 * in, out, short jumps), so it is shared.  The guest is position
 * independent in real mode (it may load anywhere inside the 64 KiB code
 * segment xvcpu-run sets up) and linked at its load address otherwise.
 */

#define COM1_THR	0x3f8		/* transmit holding register */
#define COM1_LSR	0x3fd		/* line status register */
#define LSR_THRE	0x20		/* transmit holding register empty */
#define EXIT_PORT	0xf4		/* xvcpu-run: exit with this status */

#if defined(GUEST_MODE_REAL)
	.code16
#define MODE_NAME "real"
#elif defined(GUEST_MODE_PROTECTED)
	.code32
#define MODE_NAME "protected"
#elif defined(GUEST_MODE_LONG)
	.code64
#define MODE_NAME "long"
#else
#error "define GUEST_MODE_REAL, GUEST_MODE_PROTECTED or GUEST_MODE_LONG"
#endif

	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld

	/* (E/R)SI = address of msg, as the mode addresses it. */
#if defined(GUEST_MODE_REAL)
	mov	%cs, %ax
	mov	%ax, %ds
	call	1f			/* push IP of 1f: offset in CS */
1:	pop	%si
	add	$(msg - 1b), %si
#elif defined(GUEST_MODE_PROTECTED)
	mov	$msg, %esi
#else
	lea	msg(%rip), %rsi
#endif

next_char:
	lodsb
	test	%al, %al
	jz	done
	mov	%al, %bl
	mov	$COM1_LSR, %dx
wait_thre:
	in	%dx, %al
	test	$LSR_THRE, %al
	jz	wait_thre
	mov	$COM1_THR, %dx
	mov	%bl, %al
	out	%al, %dx
	jmp	next_char

done:
	xor	%al, %al		/* exit status 0 */
	mov	$EXIT_PORT, %dx
	out	%al, %dx
halt:
	hlt				/* without an exit port: stop here */
	jmp	halt

	/* In the code section: real mode reaches it as an offset from 1b. */
msg:
	.asciz	"Hello from xvcpu: " MODE_NAME " mode\n"
