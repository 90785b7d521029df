#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/layers.py on made-up objects: a downward use passes; an upward
# use, a sideways use and an object in no layer each fail, naming it.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0

# obj NAME CODE: $tmp/obj/NAME.o from CODE
obj() {
	mkdir -p "$tmp/obj"
	echo "$2" >"$tmp/$1.c"
	gcc -c -o "$tmp/obj/$1.o" "$tmp/$1.c"
}

# readme LAYER...: a README whose "### Layers" block has these lines
readme() {
	{ echo "# x"; echo; echo "### Layers"; echo; echo '```'
	  printf '%s\n' "$@"; echo '```'; } >"$tmp/README.md"
}

# expect RC TEXT DESC: layers.py exits RC and prints TEXT
expect() {
	local rc=0 out
	out=$("$TOP/tools/vm/layers.py" "$tmp/README.md" "$tmp/obj" 2>&1) || rc=$?
	n=$((n + 1))
	if [ "$rc" -eq "$1" ] && grep -q -- "$2" <<<"$out"; then
		echo "ok $n $3"
	else
		echo "not ok $n $3 (rc $rc): $out"
		fail=1
	fi
}

echo "TAP version 13"
echo "1..5"
obj top 'void low_fn(void); int low_var; void top_fn(void) { low_fn(); low_var++; }'
obj low 'int low_var; void low_fn(void) { }'
readme "top   # comment" "low"
expect 0 "every use downward" "a downward call and variable pass"

readme "low" "top"
expect 1 "kmod/top uses low_fn of kmod/low, which is not below it" \
	"an upward use fails"

readme "top low"
expect 1 "kmod/top uses low_fn of kmod/low, which is not below it" \
	"a use within one layer fails"

readme "top"
expect 1 "kmod/low is in no layer" "an object in no layer fails"

rm -f "$tmp/README.md"
echo "# nothing" >"$tmp/README.md"
expect 1 "no fenced block" "a README without the list fails"
exit $fail
