#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test machine (busybox sh, started by /init): the
# selftests of /xvcpu/selftests, kselftest-runner style.  Outer TAP: insmod,
# one subtest per test binary (sorted; its own TAP indented with "# "), and
# rmmod, which must succeed at the end.  Prints "XVCPU-RESULT: <failures>".
# No "set -e": every test runs and is reported.
set -u

export XVCPU_MODULE=/xvcpu/xvcpu.ko
KSFT_SKIP=4

tests=
for t in /xvcpu/selftests/*; do
	[ -f "$t" ] && [ -x "$t" ] && tests="$tests $t"
done
tests=$(for t in $tests; do echo "$t"; done | sort)
count=$(echo "$tests" | grep -c . || true)

n=0 fail=0
report() {	# report RC NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n selftests: xvcpu: $2"
	elif [ "$1" -eq $KSFT_SKIP ]; then
		echo "ok $n selftests: xvcpu: $2 # SKIP"
	else
		echo "not ok $n selftests: xvcpu: $2 # exit=$1"
		fail=$((fail + 1))
	fi
}

echo "TAP version 13"
echo "1..$((count + 2))"
insmod "$XVCPU_MODULE"
loaded=$?
report $loaded insmod
for t in $tests; do
	name=${t##*/}
	echo "# selftests: xvcpu: $name"
	if [ $loaded -ne 0 ]; then
		report 1 "$name"
		continue
	fi
	{ "$t" </dev/null 2>&1; echo $? >/tmp/rc; } | sed 's/^/# /'
	report "$(cat /tmp/rc)" "$name"
done
rmmod xvcpu
report $? rmmod
echo "XVCPU-RESULT: $fail"
