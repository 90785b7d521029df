#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make run": boot the 6.12 kernel in the best machine available (qemu-kvm
# with nested VT-x, else Bochs), load xvcpu and run the example guests.
# Exits with the guest's status.  XVCPU_MACHINE overrides the machine,
# XVCPU_CPUS the number of CPUs (default 2).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm

kver=$(XVCPU_KERNELS=6.12 "$VM/kernels.sh" list)
mkdir -p "$TOP/build/logs"
exec "$VM/boot.sh" --kernel "$kver" --machine "${XVCPU_MACHINE:-auto}" \
	--cpus "${XVCPU_CPUS:-2}" \
	--guest-script "$VM/guest-run.sh" --payload "$TOP/build/payload" \
	--timeout "${XVCPU_TIMEOUT:-600}" --log "$TOP/build/logs/run.log"
