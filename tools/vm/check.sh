#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check": the selftests in Bochs (emulated VMX, 2 CPUs; two machines
# at a time) on every kernel of "kernels.sh list" and every emulated CPU of
# XVCPU_CPU_MODELS, then the refusal test in QEMU TCG (no VMX), then (Bochs
# only) the restart tests of reboot-test.sh on every kernel: "reboot -f"
# and SysRq-B while two vCPUs spin in a guest.  Prints
# each run's output, a summary with wall times, and last "N passed, N
# failed, N skipped" counting the subtests of all runs: the test cases of
# each selftest binary, the steps around them (subtests never reported
# count as failed; a run that fails without a failed subtest counts as one
# failure).
#
# Skips: each run's skipped test cases (and whole binaries) must be exactly
# those of its list, tools/vm/skips/<cpu>-<series> (series: "6.1", "6.12",
# "6.12-debug", from the kernel release).  Any other skip is a failure, and so is a listed
# skip that did not happen: a test that silently stops running, or a run in
# which everything skips, cannot pass.
#
# Environment: XVCPU_MACHINE (default bochs), XVCPU_CPU_MODELS (default
# "skylake xsave tigerlake"; boot.sh --cpu), XVCPU_TIMEOUT (seconds per
# selftest run, default 2400), XVCPU_JOBS (parallel machines, default 2).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm
LOGS=$TOP/build/logs
PAYLOAD=$TOP/build/payload
MACHINE=${XVCPU_MACHINE:-bochs}
JOBS=${XVCPU_JOBS:-2}
read -r -a cpu_models <<<"${XVCPU_CPU_MODELS:-skylake xsave tigerlake}"

mkdir -p "$LOGS"
mapfile -t kernels < <("$VM/kernels.sh" list)

# series KVER: "6.1", "6.12", ... of a release string ("6.12-debug" for
# the debug kernel of "make check-debug").
series() {
	local IFS=. debug=
	[[ $1 == *-debug ]] && debug=-debug
	read -r major minor _ <<<"$1"
	echo "$major.${minor%%[!0-9]*}$debug"
}

# run NAME KVER MACHINE CPU SCRIPT TIMEOUT: one boot, output in
# $LOGS/NAME.out, "rc seconds" in $LOGS/NAME.rc.  The soak loop that no
# CPU model changes (module unload/load cycles: 100 took 12 of the 26
# minutes of a 6.12 skylake run) runs 30 cycles on the default CPU, 10
# elsewhere; module_test alone runs 100 by default.
run() {
	local name=$1 kver=$2 machine=$3 cpu=$4 script=$5 timeout=$6 t0 rc=0
	local cpuarg=()
	if [[ $machine == bochs ]]; then
		cpuarg=(--cpu "$cpu")
		if [[ $cpu == skylake ]]; then
			cpuarg+=(--append XVCPU_LOAD_CYCLES=30)
		else
			cpuarg+=(--append XVCPU_LOAD_CYCLES=10)
		fi
	fi
	t0=$(date +%s)
	"$VM/boot.sh" --kernel "$kver" --machine "$machine" "${cpuarg[@]}" \
		--cpus 2 --guest-script "$VM/$script" --payload "$PAYLOAD" \
		--timeout "$timeout" --log "$LOGS/$name.log" \
		>"$LOGS/$name.out" 2>&1 || rc=$?
	echo "$rc $(($(date +%s) - t0))" >"$LOGS/$name.rc"
}

# run_reboot NAME KVER HOW: one reboot-test.sh run, output and "rc seconds"
# as run() has them.
run_reboot() {
	local name=$1 kver=$2 how=$3 t0 rc=0
	t0=$(date +%s)
	"$VM/reboot-test.sh" --kernel "$kver" --how "$how" \
		--payload "$PAYLOAD" --log "$LOGS/$name.log" \
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

# The selftest runs: every kernel on every CPU model, except tigerlake on
# 6.1 (it hangs early in boot there).  Not Bochs: one CPU, the host's.
runs=() skiplists=()
for cpu in "${cpu_models[@]}"; do
	[[ $MACHINE == bochs ]] || cpu=host
	for k in "${kernels[@]}"; do
		s=$(series "$k")
		[[ $cpu == tigerlake && $s == 6.1 ]] && continue
		while (($(jobs -rp | wc -l) >= JOBS)); do
			wait -n || true
		done
		name=check-$k-$MACHINE-$cpu
		echo "check: $k: selftests on $MACHINE ($cpu)"
		run "$name" "$k" "$MACHINE" "$cpu" guest-check.sh \
			"${XVCPU_TIMEOUT:-2400}" &
		runs+=("$name")
		skiplists+=("$VM/skips/$cpu-$s")
	done
	[[ $MACHINE == bochs ]] || break
done
wait
for k in "${kernels[@]}"; do
	echo "check: $k: refusal without VMX on qemu-tcg"
	run "novmx-$k" "$k" qemu-tcg - guest-novmx.sh 300
	runs+=("novmx-$k")
	skiplists+=("")
done
# Restarts under running vCPUs: xvcpu's reboot notifier and its emergency
# callback (about a minute each in Bochs).  Not on the debug kernel, whose
# boot alone takes minutes: "make check" covers both paths.
if [[ $MACHINE == bochs ]]; then
	for k in "${kernels[@]}"; do
		[[ $k == *-debug ]] && continue
		for how in reboot sysrq; do
			while (($(jobs -rp | wc -l) >= JOBS)); do
				wait -n || true
			done
			name=reboot-$how-$k
			echo "check: $k: $how under running vCPUs on bochs"
			run_reboot "$name" "$k" "$how" &
			runs+=("$name")
			skiplists+=("")
		done
	done
	wait
fi

# skipped OUT: "binary test" for each skipped test case of a selftest
# binary ("-" as test: the whole binary skipped), sorted.
skipped() {
	awk '
	/^# selftests: xvcpu: / { bin = $4 }
	/^# ok [0-9]+ .* # SKIP/ { sub(/ # SKIP.*/, ""); print bin, $4 }
	/^ok [0-9]+ selftests: xvcpu: .* # SKIP/ { print $5, "-" }' "$1" |
		sort -u
}

# The list's entries: "binary test" per line, "#" comments.
expected_skips() {
	[[ -f $1 ]] || return 0
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$1" | awk 'NF == 2' | sort -u
}

passed=0 failed=0 skips=0 summary=()
for i in "${!runs[@]}"; do
	name=${runs[$i]}
	out=$LOGS/$name.out
	echo
	echo "==== $name"
	cat "$out"
	read -r rc secs <"$LOGS/$name.rc"
	p=$(grep -c '^ok [0-9]' "$out" || true)
	f=$(grep -c '^not ok [0-9]' "$out" || true)
	sk=$(grep -c '^ok [0-9].* # SKIP' "$out" || true)
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
	# Skips are counted apart: the cases and the binaries that skip whole.
	if ((ip + ifl > 0)); then
		steps=$(grep -cE '^ok [0-9]+ .*: (insmod|rmmod|kmemleak|lockdep)$' \
			"$out" || true)
		isk=$(grep -c '^# ok [0-9].* # SKIP' "$out" || true)
		p=$((ip - isk + steps))
		f=$((f + ifl))
		sk=$((sk + isk))
	else
		p=$((p - sk))
	fi
	# Skips other than the listed ones, and listed ones that ran.
	list=${skiplists[$i]}
	if [[ -n $list ]]; then
		unexpected=$(comm -23 <(skipped "$out") <(expected_skips "$list"))
		missing=$(comm -13 <(skipped "$out") <(expected_skips "$list"))
		if [[ -n $unexpected ]]; then
			echo "check: $name: skips not in ${list#"$TOP"/}:"
			sed 's/^/  /' <<<"$unexpected"
			f=$((f + $(wc -l <<<"$unexpected")))
		fi
		if [[ -n $missing ]]; then
			echo "check: $name: listed in ${list#"$TOP"/} but did not skip:"
			sed 's/^/  /' <<<"$missing"
			f=$((f + $(wc -l <<<"$missing")))
		fi
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skips=$((skips + sk))
	status=PASS
	((rc == 0)) || status="FAIL (rc=$rc)"
	((f == 0)) || [[ $status != PASS ]] || status=FAIL
	summary+=("$(printf '%-48s %4d passed %3d failed %3d skipped %6ss  %s' \
		"$name" "$p" "$f" "$sk" "$secs" "$status")")
done
echo
echo "==== wall seconds per selftest binary (host clock)"
for name in "${runs[@]}"; do
	t=$LOGS/$name.log.times
	[[ -s $t ]] || continue
	awk -v run="$name" '
	{ d = $1 - prev; prev = $1
	  n = $0; sub(/.*selftests: xvcpu: /, "", n); sub(/ .*/, "", n)
	  if ($0 ~ /selftests: xvcpu:/) line = line sprintf(" %s %d", n, d) }
	END { print run ":" line }' "$t"
done
echo
echo "==== summary (logs in build/logs/)"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed, $skips skipped"
((failed == 0))
