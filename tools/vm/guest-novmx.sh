#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a test machine without VMX (QEMU TCG): loading xvcpu must
# fail with ENODEV and say in dmesg that VMX is missing.  Prints TAP and
# "XVCPU-RESULT: <failures>".
set -u

n=0 fail=0
check() {	# check NAME COMMAND...
	name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		fail=$((fail + 1))
	fi
}

echo "TAP version 13"
echo "1..3"
err=$(insmod /xvcpu/xvcpu.ko 2>&1)
rc=$?
echo "# insmod: rc=$rc: $err"
[ $rc -eq 0 ] && rmmod xvcpu
check "insmod fails without VMX" [ $rc -ne 0 ]
check "insmod error is ENODEV" eval 'echo "$err" | grep -q "No such device"'
dmesg | grep 'xvcpu:' | sed 's/^/# dmesg: /'
check "dmesg names the missing VMX" \
	eval 'dmesg | grep "xvcpu:" | grep -q "VMX"'
echo "XVCPU-RESULT: $fail"
