// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel files the tests write (sysfs, cgroupfs) and read (cpuinfo).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xvtest.h"

int xvt_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int xvt_cpuinfo_flag(const char *field, const char *flag)
{
	size_t len = strlen(field);
	char line[4096], *p, *tok;
	FILE *f = fopen("/proc/cpuinfo", "re");
	int ret = -1;

	if (!f)
		return -1;
	/* The first CPU's "<field>\t: a b c" line */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, len) ||
		    (line[len] != '\t' && line[len] != ' ' && line[len] != ':'))
			continue;
		p = strchr(line, ':');
		if (!p)
			break;
		ret = 0;
		for (tok = strtok(p + 1, " \t\n"); tok;
		     tok = strtok(NULL, " \t\n"))
			if (!strcmp(tok, flag))
				ret = 1;
		break;
	}
	fclose(f);
	return ret;
}

int xvt_vmx_flag(const char *flag)
{
	return xvt_cpuinfo_flag("vmx flags", flag);
}
