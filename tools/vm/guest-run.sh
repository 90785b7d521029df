#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test machine (busybox sh, started by /init): load xvcpu
# and run the example guests in their three CPU modes with xvcpu-run, then
# the guest that boots itself from the reset vector, on two vCPUs.
# Prints TAP and "XVCPU-RESULT: <failures>".  No "set -e": every step runs
# and is reported.
set -u

n=0 fail=0
result() {	# result RC NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2 # rc=$1"
		fail=$((fail + 1))
	fi
}

echo "TAP version 13"
echo "1..6"
insmod /xvcpu/xvcpu.ko
result $? "insmod xvcpu"
for mode in real protected long; do
	xvcpu-run --mode $mode /xvcpu/guests/hello-$mode.bin </dev/null
	result $? "xvcpu-run --mode $mode hello-$mode.bin"
done
xvcpu-run --vcpus 2 --reset-image /xvcpu/guests/boot64.bin </dev/null
result $? "xvcpu-run --vcpus 2 --reset-image boot64.bin"
rmmod xvcpu
result $? "rmmod xvcpu"
echo "XVCPU-RESULT: $fail"
