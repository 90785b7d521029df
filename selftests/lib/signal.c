// SPDX-License-Identifier: GPL-2.0
/*
 * Signals that interrupt XVCPU_RUN: a handler that does nothing, and a
 * timer that sends SIGALRM.
 */
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "xvtest.h"

static void on_signal(int sig)
{
	(void)sig;
}

int xvt_catch_signal(int sig)
{
	struct sigaction sa;

	/* No SA_RESTART: the interrupted call fails with EINTR */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

int xvt_set_itimer(long usec, bool periodic)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = usec / 1000000;
	it.it_value.tv_usec = usec % 1000000;
	if (periodic)
		it.it_interval = it.it_value;
	return setitimer(ITIMER_REAL, &it, NULL);
}
