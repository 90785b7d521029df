// SPDX-License-Identifier: GPL-2.0
/*
 * ucall: guest side (runs in the guest) and host side (decodes the exit).
 */
#include <stdio.h>
#include <string.h>

#include "libxvcpu.h"
#include "guest.h"
#include "ucall.h"

void __guest ucall(uint64_t cmd, const char *file, uint64_t line,
		   const char *text, uint64_t a0, uint64_t a1)
{
	struct ucall uc;

	/* Field by field: a struct initializer may become a memset call. */
	uc.cmd = cmd;
	uc.file = (uint64_t)file;
	uc.line = line;
	uc.text = (uint64_t)text;
	uc.args[0] = a0;
	uc.args[1] = a1;

	asm volatile("outb %%al, %%dx"
		     : : "a"(0), "d"(XVTEST_UCALL_PORT), "D"(&uc)
		     : "memory");

	/* Nothing follows DONE or a failed assertion. */
	if (cmd != UCALL_SYNC)
		for (;;)
			guest_hlt();
}

int ucall_get(struct xvcpu_vcpu *vcpu, struct ucall *uc)
{
	struct xvcpu_run *run = vcpu->run;
	struct xvcpu_regs regs;

	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != XVCPU_EXIT_IO ||
	    run->io.direction != XVCPU_IO_OUT ||
	    run->io.port != XVTEST_UCALL_PORT || run->io.size != 1)
		return UCALL_NONE;
	if (xvcpu_get_regs(vcpu, &regs) < 0)
		return UCALL_NONE;
	if (xvcpu_vm_read(vcpu->vm, regs.rdi, uc, sizeof(*uc)) < 0) {
		memset(uc, 0, sizeof(*uc));
		return UCALL_NONE;
	}
	return (int)uc->cmd;
}

/* Copy a NUL-terminated string out of guest memory, truncating. */
static void read_guest_string(struct xvcpu_vm *vm, uint64_t gva, char *buf,
			      size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (xvcpu_vm_read(vm, gva + i, &buf[i], 1) < 0 || !buf[i])
			break;
	}
	buf[i] = '\0';
}

const char *ucall_where(struct xvcpu_vcpu *vcpu, const struct ucall *uc,
			char *buf, size_t len)
{
	char file[128], text[256];

	read_guest_string(vcpu->vm, uc->file, file, sizeof(file));
	read_guest_string(vcpu->vm, uc->text, text, sizeof(text));
	snprintf(buf, len, "%s:%llu: %s", file, (unsigned long long)uc->line,
		 text);
	return buf;
}
