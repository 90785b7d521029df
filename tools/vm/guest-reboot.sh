#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test machine (busybox sh, started by /init), for
# reboot-test.sh: load xvcpu, start two vCPUs spinning in a guest, then
# restart the machine under them, as $XVCPU_REBOOT says:
#   reboot  "reboot -f": the kernel's reboot notifiers, xvcpu's among them
#   sysrq   SysRq-B: the emergency restart, which calls the kernel's
#           emergency virtualization-off callback on every CPU
# Every kernel message goes to the console from the start, so that the
# host sees what the kernel printed up to the reset.  The machine never
# comes back here; if it does, "XVCPU-RESULT: 1" says the restart failed.
set -u

how=${XVCPU_REBOOT:-reboot}
echo 8 >/proc/sys/kernel/printk

if ! insmod /xvcpu/xvcpu.ko; then
	echo "XVCPU-RESULT: 1"
	exit 1
fi

# Real mode: mov dx, 0x3f8; mov al, 'S'; out dx, al; jmp $
printf '\272\370\003\260\123\356\353\376' >/tmp/spin.bin
: >/tmp/spin.out
xvcpu-run --mode real --vcpus 2 /tmp/spin.bin </dev/null >/tmp/spin.out &

# Both vCPUs have written their "S": they spin in the guest now.  No
# sleep: guest time runs far slower than the host's (the host side has
# the timeout).
while [ "$(cat /tmp/spin.out)" != SS ]; do
	if ! kill -0 $! 2>/dev/null; then
		echo "xvcpu-run ended before both vCPUs ran: '$(cat /tmp/spin.out)'"
		echo "XVCPU-RESULT: 1"
		exit 1
	fi
done

# Through the kernel's log: the console prints it at once, where the
# tty's own output may still sit in a buffer when SysRq-B resets.
echo "XVCPU-REBOOT: $how with 2 vCPUs spinning in the guest" >/dev/kmsg
case $how in
reboot) reboot -f ;;
sysrq) echo b >/proc/sysrq-trigger ;;
*) echo "unknown XVCPU_REBOOT=$how" ;;
esac
echo "XVCPU-RESULT: 1"
exit 1
