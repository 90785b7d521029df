#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench/guard.py on made-up results: within the tolerance passes,
# a path 5% longer fails naming it, a longer tolerance of its own lets
# it pass, a missing operation fails, a shorter path passes.
set -euo pipefail

guard=$(dirname "${BASH_SOURCE[0]}")/guard.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0

# check WANT_RC TEXT DESC BASELINE-LINES... < results
check() {
	local want=$1 text=$2 desc=$3 rc=0 out
	shift 3
	printf '%s\n' "$@" >"$tmp/base"
	cat >"$tmp/res"
	out=$("$guard" "$tmp/res" "$tmp/base") || rc=$?
	n=$((n + 1))
	if [ "$rc" -eq "$want" ] && grep -q -- "$text" <<<"$out"; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc (rc $rc): $out"
		fail=1
	fi
}

echo "TAP version 13"
echo "1..5"
check 0 "2 operations within" "within 3% passes" \
	"# comment" "pio 1000" "hlt 2000" <<<$'pio 1029 3000 0.34\nhlt 2000 3000 0.66'
check 1 "pio: 1050 ticks, +5.0%" "5% longer fails" \
	"pio 1000" <<<"pio 1050 3000 0.35"
check 0 "1 operations within" "its own tolerance" \
	"pio 1000 10" <<<"pio 1050 3000 0.35"
check 1 "hlt: not measured" "a missing operation fails" \
	"pio 1000" "hlt 2000" <<<"pio 1000 3000 0.33"
check 0 "under the baseline" "a shorter path passes with a hint" \
	"pio 1000" <<<"pio 900 3000 0.30"
exit $fail
