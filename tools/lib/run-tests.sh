#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run host-side test programs, each of which ends its output with
# "N passed, M failed", and print the sum as the last line.
#
#   run-tests.sh PROGRAM...
set -euo pipefail

total_pass=0
total_fail=0
for prog in "$@"; do
	echo "== $(basename "$prog")"
	rc=0
	out=$("$prog") || rc=$?
	printf '%s\n' "$out"
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		total_pass=$((total_pass + BASH_REMATCH[1]))
		total_fail=$((total_fail + BASH_REMATCH[2]))
		if ((rc != 0 && BASH_REMATCH[2] == 0)); then
			total_fail=$((total_fail + 1))	# crashed after counting
		fi
	else
		echo "$(basename "$prog"): no result line (exit code $rc)"
		total_fail=$((total_fail + 1))
	fi
done
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
