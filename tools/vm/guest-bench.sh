#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test machine (busybox sh, started by /init): the same
# benchmark under xvcpu, then, with xvcpu unloaded, under KVM (6.12's
# kvm_intel takes VMX when it loads), then both side by side.  The table
# lines carry "XVCPU-BENCH: ", the machine-readable lines
# "XVCPU-BENCH-RESULT: " (bench.sh extracts both).  Prints
# "XVCPU-RESULT: <failed steps>".  No "set -e": every step runs.
set -u

fail=0
step() {	# step NAME COMMAND...: run it, count and report a failure
	name=$1
	shift
	echo "# bench: $name"
	"$@" || { echo "# bench: $name failed (rc=$?)"; fail=$((fail + 1)); }
}

bench_xvcpu() {
	insmod /xvcpu/xvcpu.ko || return
	xvcpu-bench xvcpu >/tmp/xvcpu.txt
	rc=$?
	rmmod xvcpu || return
	return $rc
}

bench_kvm() {
	modprobe kvm_intel || return
	xvcpu-bench kvm >/tmp/kvm.txt
	rc=$?
	modprobe -r kvm_intel || return
	return $rc
}

: >/tmp/xvcpu.txt
: >/tmp/kvm.txt
step xvcpu bench_xvcpu
step kvm bench_kvm
step report xvcpu-bench report --results /tmp/results.txt \
	/tmp/xvcpu.txt /tmp/kvm.txt >/tmp/table.txt
sed 's/^/XVCPU-BENCH: /' /tmp/table.txt
sed 's/^/XVCPU-BENCH-RESULT: /' /tmp/results.txt
echo "XVCPU-RESULT: $fail"
