#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": boot the 6.12 kernel once in Bochs (1 CPU, 2 GiB: the
# benchmark maps 1 GiB of guest memory), run xvcpu-bench under xvcpu and
# under KVM (guest-bench.sh), print the table and write
# build/bench/results.txt ("NAME XVCPU KVM RATIO" per operation).  The
# table's last line is "worst ratio: X.XX"; then tools/bench/guard.py
# holds xvcpu's figures to tools/bench/baseline.txt (a path more than 3%
# longer fails).  Needs the module and
# build/bench/payload (tools/bench: make payload).  XVCPU_CPUS and
# XVCPU_TIMEOUT override the number of CPUs and the host-side timeout.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm
OUT=$TOP/build/bench

kver=$(XVCPU_KERNELS=6.12 "$VM/kernels.sh" list)
log=$OUT/serial.log
mkdir -p "$OUT"
rm -f "$OUT/results.txt"

# The console streams by; the table comes once, at the end.
set +e
"$VM/boot.sh" --kernel "$kver" --machine bochs --cpus "${XVCPU_CPUS:-1}" \
	--mem 2048 --guest-script "$VM/guest-bench.sh" \
	--payload "$OUT/payload" --timeout "${XVCPU_TIMEOUT:-900}" \
	--log "$log" | grep -v '^XVCPU-BENCH'
rc=${PIPESTATUS[0]}
set -e

sed -n 's/\r$//; s/^XVCPU-BENCH-RESULT: //p' "$log" >"$OUT/results.txt"
table=$(sed -n 's/\r$//; s/^XVCPU-BENCH: //p' "$log")
if [[ $table != *"worst ratio: "* || ! -s $OUT/results.txt ]]; then
	echo "bench.sh: no results in $log" >&2
	exit $((rc ? rc : 1))
fi
echo
echo "$table"
# Path lengths against the committed baseline (tools/bench/baseline.txt)
"$TOP/tools/bench/guard.py" "$OUT/results.txt" "$TOP/tools/bench/baseline.txt" ||
	rc=1
exit "$rc"
