#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check": on every kernel of "kernels.sh list", the selftests in
# Bochs (emulated VMX, 2 CPUs; two machines at a time), then the refusal
# test in QEMU TCG (no VMX).  Prints each run's output, a summary with
# wall times, and last "N passed, N failed" counting the subtests of all
# runs: the test cases of each selftest binary, the steps around them
# (subtests never reported count as failed; a run that fails without a
# failed subtest counts as one failure).
#
# Environment: XVCPU_MACHINE (default bochs), XVCPU_TIMEOUT (seconds per
# selftest run, default 2400), XVCPU_JOBS (parallel machines, default 2).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm
LOGS=$TOP/build/logs
PAYLOAD=$TOP/build/payload
MACHINE=${XVCPU_MACHINE:-bochs}
JOBS=${XVCPU_JOBS:-2}

mkdir -p "$LOGS"
mapfile -t kernels < <("$VM/kernels.sh" list)

# run NAME KVER MACHINE SCRIPT TIMEOUT: one boot, output in $LOGS/NAME.out,
# "rc seconds" in $LOGS/NAME.rc.
run() {
	local name=$1 kver=$2 machine=$3 script=$4 timeout=$5 t0 rc=0
	t0=$(date +%s)
	"$VM/boot.sh" --kernel "$kver" --machine "$machine" --cpus 2 \
		--guest-script "$VM/$script" --payload "$PAYLOAD" \
		--timeout "$timeout" --log "$LOGS/$name.log" \
		>"$LOGS/$name.out" 2>&1 || rc=$?
	echo "$rc $(($(date +%s) - t0))" >"$LOGS/$name.rc"
}

# On a signal, stop the machines too (boot.sh kills its machine on TERM).
stop() {
	local j
	for j in $(jobs -p); do
		pkill -TERM -P "$j" || true
	done
	exit 143
}
trap stop TERM INT HUP

runs=()
for k in "${kernels[@]}"; do
	while (($(jobs -rp | wc -l) >= JOBS)); do
		wait -n || true
	done
	echo "check: $k: selftests on $MACHINE"
	run "check-$k-$MACHINE" "$k" "$MACHINE" guest-check.sh \
		"${XVCPU_TIMEOUT:-2400}" &
	runs+=("check-$k-$MACHINE")
done
wait
for k in "${kernels[@]}"; do
	echo "check: $k: refusal without VMX on qemu-tcg"
	run "novmx-$k" "$k" qemu-tcg guest-novmx.sh 300
	runs+=("novmx-$k")
done

passed=0 failed=0 summary=()
for name in "${runs[@]}"; do
	out=$LOGS/$name.out
	echo
	echo "==== $name"
	cat "$out"
	read -r rc secs <"$LOGS/$name.rc"
	p=$(grep -c '^ok [0-9]' "$out" || true)
	f=$(grep -c '^not ok [0-9]' "$out" || true)
	# Subtests planned but never reported (crash, timeout) failed too.
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -n1)
	if ((${plan:-0} > p + f)); then
		f=$((plan - p))
	fi
	if ((rc != 0 && f == 0)); then
		f=1
	fi
	# Count test cases: a selftest binary's own TAP lines ("# ok N")
	# stand for it, plus the outer steps that are not binaries.
	ip=$(grep -c '^# ok [0-9]' "$out" || true)
	ifl=$(grep -c '^# not ok [0-9]' "$out" || true)
	if ((ip + ifl > 0)); then
		steps=$(grep -cE '^ok [0-9]+ .*: (insmod|rmmod|kmemleak|lockdep)$' \
			"$out" || true)
		p=$((ip + steps))
		f=$((f + ifl))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	status=PASS
	((rc == 0)) || status="FAIL (rc=$rc)"
	summary+=("$(printf '%-44s %4d passed %3d failed %6ss  %s' \
		"$name" "$p" "$f" "$secs" "$status")")
done
echo
echo "==== summary (logs in build/logs/)"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
((failed == 0))
