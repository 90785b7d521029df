#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test machine for vm-run.sh (busybox sh, started by
# /init): load xvcpu, run the user's program in /xvcpu/vm-run/ with its
# arguments (/xvcpu/vm-run.cmd sets them), unload xvcpu and print
# "XVCPU-RESULT: <the program's exit status>", or 125 if xvcpu did not
# load.  The program's output goes to the console unchanged.
set -u

if ! insmod /xvcpu/xvcpu.ko; then
	echo "vm-run: insmod /xvcpu/xvcpu.ko failed; dmesg says:"
	dmesg | grep 'xvcpu' | tail -n 5
	echo "XVCPU-RESULT: 125"
	exit 0
fi
cd /xvcpu/vm-run || exit 1
# "set -- PROG ARGS...", quoted by vm-run.sh
# shellcheck source=/dev/null
. /xvcpu/vm-run.cmd
"$@" </dev/null
rc=$?
if ! rmmod xvcpu; then
	echo "vm-run: rmmod xvcpu failed (a process of the program still holds it?)"
fi
echo "XVCPU-RESULT: $rc"
