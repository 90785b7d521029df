#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot each QEMU shim (boot-<mode>.elf, see boot.S) with TCG and check
# that the example guest printed its line and exited with status 0.
#
#   qemu-test.sh DIR MODE...    DIR holds boot-<mode>.elf
#
# QEMU's isa-debug-exit turns the guest's status S into exit code
# 2 * S + 1, so status 0 is QEMU exit code 1.
set -euo pipefail

dir=$1
shift
qemu=${QEMU:-qemu-system-x86_64}
pass=0
fail=0

for mode in "$@"; do
	elf=$dir/boot-$mode.elf
	out=$dir/serial-$mode.txt
	rc=0
	timeout 20 "$qemu" -machine pc,accel=tcg -m 64 -display none \
		-no-reboot -monitor none -serial "file:$out" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x01 \
		-kernel "$elf" </dev/null || rc=$?
	want="Hello from xvcpu: $mode mode"
	if [[ $rc -eq 1 ]] && grep -qxF "$want" "$out"; then
		echo "ok: $mode"
		pass=$((pass + 1))
	else
		echo "FAIL: $mode: qemu exit code $rc, serial output:"
		sed 's/^/  | /' "$out" 2>/dev/null || true
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
((fail == 0))
