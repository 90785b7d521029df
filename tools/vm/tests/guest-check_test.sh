#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side test of tools/vm/guest-check.sh, the test machine's runner:
# runs it on a fake payload (test binaries that pass, fail, are killed by a
# signal, take their shell down before it can write their status, skip)
# with fake insmod/rmmod, and compares the TAP it prints, its
# XVCPU-RESULT line and the commands it ran with what they must be.  Runs
# under every shell the script may meet: sh, and busybox sh (the machine's
# shell) when busybox is installed.
#
#   guest-check_test.sh          prints TAP; exit status 1 if any case fails
set -uo pipefail

SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/guest-check.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/guest-check-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

fake() {	# fake NAME BODY: an executable shell script
	printf '#!/bin/sh\n%s\n' "$2" >"$1"
	chmod 755 "$1"
}

# The payload: names sort in this order.  d_dies_early kills the shell
# that would write its status; the one before it passed, so a status left
# over from it would read "ok".
t=$work/root/selftests
mkdir -p "$t"
fake "$t/a_passes" 'echo "TAP version 13"; echo "ok 1 one"; exit 0'
fake "$t/b_fails" 'echo "not ok 1 one"; exit 1'
# stdin is /dev/null: nothing to read
fake "$t/c_passes" 'read -r line && exit 9; exit 0'
# shellcheck disable=SC2016 # $PPID: the fake binary's own
fake "$t/d_dies_early" 'echo "going"; kill -KILL $PPID; sleep 1; exit 0'
fake "$t/e_killed" 'kill -SEGV $$; exit 0'
fake "$t/f_skips" 'echo "ok 1 # SKIP no device"; exit 4'
# Not run: not executable, or a directory
printf 'exit 1\n' >"$t/g_not_executable"
mkdir "$t/h_directory"
fake "$work/insmod" \
	"echo \"insmod \$*\" >>'$work/commands'; exit \${FAKE_INSMOD_RC:-0}"
fake "$work/rmmod" \
	"echo \"rmmod \$*\" >>'$work/commands'; exit \${FAKE_RMMOD_RC:-0}"

# run SHELL: guest-check.sh's output, with the fakes and no lockdep step
# (the host's own files stay out of it); no kmemleak step either unless
# FAKE_KMEMLEAK names a fake of its file.
run() {
	rm -f "$work/commands"
	mkdir -p "$work/tmp"
	XVCPU_ROOT=$work/root XVCPU_INSMOD=$work/insmod \
	XVCPU_RMMOD=$work/rmmod XVCPU_TMP=$work/tmp \
	XVCPU_KMEMLEAK=${FAKE_KMEMLEAK:-$work/none} XVCPU_KMEMLEAK_WAIT=0 \
	XVCPU_LOCKDEP=$work/none \
		$1 "$SCRIPT" </dev/null 2>"$work/stderr"
}

# leak_run SHELL REPORT: run with a fake kmemleak file (a FIFO) that
# takes one command, saved in $work/kmemleak-cmd, and then reads as
# REPORT.  The lines of the kmemleak step and the result.
leak_run() {
	rm -f "$work/kmemleak" "$work/kmemleak-cmd"
	mkfifo "$work/kmemleak"
	# shellcheck disable=SC2016 # $1..$3: the inner shell's arguments
	timeout 60 sh -c 'read -r cmd <"$1" && echo "$cmd" >"$2" &&
		cat "$3" >"$1"' - "$work/kmemleak" "$work/kmemleak-cmd" "$2" &
	FAKE_KMEMLEAK=$work/kmemleak run "$1" |
		grep -E '^# kmemleak: (filter|[0-9])|kmemleak$|kmemleak #|^XVCPU-RES'
	wait
}

# kmemleak reports: one suspect of other code's; the same and one with
# a frame of xvcpu's.
leak_other() {
	echo "unreferenced object 0xffff888000200000 (size 32):"
	echo '  comm "a_passes", pid 9, jiffies 4294937296'
	echo "  backtrace (crc 0):"
	echo "    __kmalloc_noprof+0x1b5/0x2f0"
	echo "    do_one_initcall+0x5a/0x300"
}
leak_other >"$work/leak-other"
{
	leak_other
	echo "unreferenced object 0xffff888000200100 (size 32):"
	echo '  comm "a_passes", pid 9, jiffies 4294937296'
	echo "  backtrace (crc 0):"
	echo "    __kmalloc_noprof+0x1b5/0x2f0"
	echo "    xvcpu_vm_alloc+0x21/0x80 [xvcpu]"
} >"$work/leak-ours"

n=0 failed=0
check() {	# check WHAT: compares $work/got with $work/want
	n=$((n + 1))
	if diff -u "$work/want" "$work/got" >"$work/diff"; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		sed 's/^/# /' "$work/diff"
		failed=$((failed + 1))
	fi
}

shells="sh"
command -v busybox >/dev/null && shells="$shells busybox_sh"

echo "TAP version 13"
echo "1..$((6 * $(echo "$shells" | wc -w)))"
for sh in $shells; do
	[ "$sh" = busybox_sh ] && sh="busybox sh"

	cat >"$work/want" <<'EOF'
TAP version 13
1..8
ok 1 selftests: xvcpu: insmod
# selftests: xvcpu: a_passes
# TAP version 13
# ok 1 one
ok 2 selftests: xvcpu: a_passes
# selftests: xvcpu: b_fails
# not ok 1 one
not ok 3 selftests: xvcpu: b_fails # exit=1
# selftests: xvcpu: c_passes
ok 4 selftests: xvcpu: c_passes
# selftests: xvcpu: d_dies_early
# going
not ok 5 selftests: xvcpu: d_dies_early # no exit status
# selftests: xvcpu: e_killed
# Segmentation fault
not ok 6 selftests: xvcpu: e_killed # exit=139 (signal 11)
# selftests: xvcpu: f_skips
# ok 1 # SKIP no device
ok 7 selftests: xvcpu: f_skips # SKIP
ok 8 selftests: xvcpu: rmmod
XVCPU-RESULT: 3
EOF
	run "$sh" >"$work/got"
	check "$sh: each binary's own status, TAP and result"

	printf 'insmod %s\nrmmod xvcpu\n' "$work/root/xvcpu.ko" >"$work/want"
	cp "$work/commands" "$work/got"
	check "$sh: insmod of the payload's module, rmmod at the end"

	# insmod fails: no test runs, each counts as failed
	FAKE_INSMOD_RC=1 run "$sh" | grep -v '^# selftests' >"$work/got"
	{
		echo "TAP version 13"
		echo "1..8"
		echo "not ok 1 selftests: xvcpu: insmod # exit=1"
		i=2
		for t in a_passes b_fails c_passes d_dies_early e_killed f_skips; do
			echo "not ok $i selftests: xvcpu: $t # exit=1"
			i=$((i + 1))
		done
		echo "ok 8 selftests: xvcpu: rmmod"
		echo "XVCPU-RESULT: 7"
	} >"$work/want"
	check "$sh: insmod failing fails every test"

	FAKE_RMMOD_RC=1 run "$sh" | tail -n 2 >"$work/got"
	printf 'not ok 8 selftests: xvcpu: rmmod # exit=1\nXVCPU-RESULT: 4\n' \
		>"$work/want"
	check "$sh: rmmod failing is a failure"

	leak_run "$sh" "$work/leak-other" >"$work/got"
	echo "command: $(cat "$work/kmemleak-cmd")" >>"$work/got"
	cat >"$work/want" <<'EOF'
# kmemleak: filter self-check: 1 of 1 synthetic xvcpu suspects found
# kmemleak: 0 suspect(s) of xvcpu's, 1 in all
ok 9 selftests: xvcpu: kmemleak
XVCPU-RESULT: 3
command: scan
EOF
	check "$sh: kmemleak: a scan; other code's suspects do not count"

	leak_run "$sh" "$work/leak-ours" >"$work/got"
	cat >"$work/want" <<'EOF'
# kmemleak: filter self-check: 1 of 1 synthetic xvcpu suspects found
# kmemleak: 1 suspect(s) of xvcpu's, 2 in all
not ok 9 selftests: xvcpu: kmemleak # exit=1
XVCPU-RESULT: 4
EOF
	check "$sh: kmemleak: a suspect of xvcpu's fails the run"
done
[ $failed -eq 0 ]
