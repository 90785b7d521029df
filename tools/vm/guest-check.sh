#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test machine (busybox sh, started by /init): the
# selftests of /xvcpu/selftests, kselftest-runner style.  Outer TAP: insmod,
# one subtest per test binary (sorted; its own TAP indented with "# "), and
# rmmod, which must succeed at the end.  Prints "XVCPU-RESULT: <failures>".
# No "set -e": every test runs and is reported.  A test binary whose exit
# status never comes back (its shell was killed) counts as failed.
#
# On a kernel with kmemleak (the debug kernel) a "kmemleak" step follows:
# it fails on any leak suspect whose allocation backtrace is xvcpu's
# (found after the suite, or after rmmod); other code's suspects are
# shown, not counted.  On a kernel with lockdep, a "lockdep" step checks
# that lockdep was still on at the end (its first report turns it off).
set -u

# What is fixed inside the machine; tools/vm/tests/guest-check_test.sh
# runs the script on the host with a fake payload and fake commands.
root=${XVCPU_ROOT:-/xvcpu}
insmod=${XVCPU_INSMOD:-insmod}
rmmod=${XVCPU_RMMOD:-rmmod}
tmp=${XVCPU_TMP:-/tmp}
KMEMLEAK=${XVCPU_KMEMLEAK:-/sys/kernel/debug/kmemleak}
KMEMLEAK_WAIT=${XVCPU_KMEMLEAK_WAIT:-0}
LOCKDEP=${XVCPU_LOCKDEP:-/proc/lockdep_stats}

export XVCPU_MODULE="$root/xvcpu.ko"
KSFT_SKIP=4

tests=
for t in "$root"/selftests/*; do
	[ -f "$t" ] && [ -x "$t" ] && tests="$tests $t"
done
tests=$(for t in $tests; do echo "$t"; done | sort)
count=$(echo "$tests" | grep -c . || true)

n=0 fail=0
report() {	# report RC NAME; RC empty: no exit status came back
	n=$((n + 1))
	case $1 in
	0)
		echo "ok $n selftests: xvcpu: $2" ;;
	"$KSFT_SKIP")
		echo "ok $n selftests: xvcpu: $2 # SKIP" ;;
	'' | *[!0-9]*)
		echo "not ok $n selftests: xvcpu: $2 # no exit status"
		fail=$((fail + 1)) ;;
	*)
		sig=
		[ "$1" -gt 128 ] && sig=" (signal $(($1 - 128)))"
		echo "not ok $n selftests: xvcpu: $2 # exit=$1$sig"
		fail=$((fail + 1)) ;;
	esac
}

extra=0
[ -w "$KMEMLEAK" ] && extra=$((extra + 1))
[ -r "$LOCKDEP" ] && extra=$((extra + 1))

# Guest seconds since boot.
uptime_s() {
	read -r up _ </proc/uptime 2>/dev/null && echo "${up%%.*}"
}

# What a scan walks, for the log: kmemleak's objects (the slab of its
# metadata) and the memory they describe.
leak_sizes() {
	awk '/^(MemTotal|MemFree|Slab|KernelStack|VmallocUsed):/ {
		printf "%s %d MiB  ", $1, $2 / 1024 }
	END { print "" }' /proc/meminfo 2>/dev/null
	awk '$1 == "kmemleak_object" { print "kmemleak objects:", $2 }' \
		/proc/slabinfo 2>/dev/null
}

# Reports on stdin; $1-$2: xvcpu's text (16 hex digits) or "-" for none.
# Prints each suspect, followed by a line "XVCPU-LEAK" when its backtrace
# is xvcpu's: a symbol "[xvcpu]", or a raw address inside its text once
# it is unloaded.
leak_filter() {
	awk -v lo="$1" -v hi="$2" '
	function flush() {
		if (block == "")
			return
		printf "%s", block
		if (ours)
			print "XVCPU-LEAK"
		block = ""; ours = 0
	}
	/^unreferenced object/ { flush() }
	{ block = block $0 "\n" }
	/\[xvcpu\]/ { ours = 1 }
	$1 ~ /^0x[0-9a-f]+$/ && lo != "-" {
		a = substr($1, 3)
		if (length(a) == 16 && a "" >= lo "" && a "" < hi "")
			ours = 1
	}
	END { flush() }'
}

# The filter's self-check, on a synthetic report of other code's suspect
# (a raw address outside xvcpu's text), one with an "[xvcpu]" frame and,
# when xvcpu's text is known, one with a raw address inside it (as after
# rmmod).  Prints "FOUND WANTED": how many it flagged as xvcpu's, how
# many it must flag.
leak_filter_check() {
	want=1
	[ "$1" != - ] && want=2
	{
		echo "unreferenced object 0xffff888000100000 (size 64):"
		echo '  comm "init", pid 1, jiffies 4294937296'
		echo "  backtrace (crc 0):"
		echo "    __kmalloc_cache_noprof+0x1b5/0x2f0"
		echo "    0xffffffff81000000"
		echo "unreferenced object 0xffff888000100100 (size 64):"
		echo '  comm "api_test", pid 2, jiffies 4294937296'
		echo "  backtrace (crc 0):"
		echo "    __kmalloc_cache_noprof+0x1b5/0x2f0"
		echo "    xvcpu_dev_ioctl+0x10/0x90 [xvcpu]"
		if [ "$1" != - ]; then
			echo "unreferenced object 0xffff888000100200 (size 64):"
			echo '  comm "api_test", pid 3, jiffies 4294937296'
			echo "  backtrace (crc 0):"
			echo "    __kmalloc_cache_noprof+0x1b5/0x2f0"
			echo "    0x$1"
		fi
	} | leak_filter "$1" "$2" >"$tmp/leak-check"
	echo "$(grep -c '^XVCPU-LEAK$' "$tmp/leak-check") $want"
}

echo "TAP version 13"
echo "1..$((count + 2 + extra))"
# On a debug kernel, reports go to the console as they happen (warnings
# and worse), so that a run that hangs still shows them.  Every fork,
# system call and module load is many times slower there: the long loops
# run shorter (the checkers need a path to run, not to run 10^5 times).
fuzz_args=
if [ $extra -gt 0 ]; then
	dmesg -n 5
	export XVCPU_LOAD_CYCLES=3 XVCPU_MIGRATIONS=2000 XVCPU_SLOT_CYCLES=500
	fuzz_args="--calls 5000"
fi
"$insmod" "$XVCPU_MODULE"
loaded=$?
report $loaded insmod
for t in $tests; do
	name=${t##*/}
	echo "# selftests: xvcpu: $name"
	if [ $loaded -ne 0 ]; then
		report 1 "$name"
		continue
	fi
	args=
	[ "$name" = fuzz_test ] && args=$fuzz_args
	# The status goes through a file (the pipeline's is sed's); the file
	# is removed first so that a previous binary's status never stands
	# for this one's.
	rm -f "$tmp/rc"
	# shellcheck disable=SC2086 # $args: words
	{ "$t" $args </dev/null 2>&1; echo $? >"$tmp/rc"; } | sed 's/^/# /'
	report "$(cat "$tmp/rc" 2>/dev/null)" "$name"
done
# xvcpu's text, to know its code in backtraces once it is gone.
lo=- hi=-
[ -r /proc/modules ] && while read -r name size _ _ _ addr _; do
	[ "$name" = xvcpu ] || continue
	lo=$(printf '%016x' $((addr)))
	hi=$(printf '%016x' $((addr + size)))
done </proc/modules
"$rmmod" xvcpu
report $? rmmod
# One scan: what the suite leaked is as unreferenced after rmmod as
# before it.  The step fails on a suspect of xvcpu's, on a scan that
# kmemleak refused (it turns itself off on an internal error) and on a
# filter that misses its synthetic xvcpu suspects.
if [ -w "$KMEMLEAK" ]; then
	check=$(leak_filter_check "$lo" "$hi")
	check_found=${check% *} check_want=${check#* }
	echo "# kmemleak: filter self-check: $check_found of $check_want" \
		"synthetic xvcpu suspects found"
	# kmemleak reports only objects older than its MSECS_MIN_AGE, in
	# jiffies, which in Bochs can cost an hour to wait for (on the
	# skylake model each guest second is ~70 emulated ones): the debug
	# kernel is built with a minimum age of 0 (debug-kernel.sh), and
	# after rmmod nothing of xvcpu's is young.  XVCPU_KMEMLEAK_WAIT
	# waits first, for a kernel with the stock age.  The scan itself
	# walks memory in proportion to the machine's RAM.
	if [ "$KMEMLEAK_WAIT" != 0 ]; then
		echo "# kmemleak: waiting $KMEMLEAK_WAIT s of guest time"
		sleep "$KMEMLEAK_WAIT"
	fi
	echo "# kmemleak: scanning after rmmod at $(uptime_s) s;" \
		"$(leak_sizes)"
	t0=$(uptime_s)
	# The write's status is the scan's: EPERM once kmemleak is off.
	echo scan >"$KMEMLEAK"
	# shellcheck disable=SC2320 # the status of that write
	scan_rc=$?
	t1=$(uptime_s)
	cat "$KMEMLEAK" >"$tmp/kmemleak"
	echo "# kmemleak: scan rc=$scan_rc, $((t1 - t0)) s of guest time;" \
		"report read in $(($(uptime_s) - t1)) s"
	{ echo "kmemleak: after the suite and rmmod (xvcpu text $lo-$hi)"
	  leak_filter "$lo" "$hi" <"$tmp/kmemleak"; } >"$tmp/leaks"
	sed 's/^/# /' "$tmp/leaks"
	leaks=$(grep -c '^XVCPU-LEAK$' "$tmp/leaks")
	echo "# kmemleak: $leaks suspect(s) of xvcpu's," \
		"$(grep -c '^unreferenced object' "$tmp/leaks") in all"
	[ "$leaks" -eq 0 ] && [ "$scan_rc" -eq 0 ] &&
		[ "$check_found" -eq "$check_want" ]
	report $? kmemleak
fi
if [ -r "$LOCKDEP" ]; then
	grep -q 'debug_locks: *1$' "$LOCKDEP"
	report $? lockdep
fi
echo "XVCPU-RESULT: $fail"
