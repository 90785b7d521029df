#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the guest code of a selftest binary: every function named guest_*,
# xvt_guest_* or ucall runs inside a VM, so it must not use SSE/AVX
# registers and must only call other guest functions (no libc).  The
# compiler may emit such code behind one's back (memcpy for a struct copy,
# vector stores for zeroing); this catches it at build time.
#
# Usage: check-guest-code.sh BINARY
set -euo pipefail

bin=$1
objdump -d --no-show-raw-insn "$bin" | awk -v bin="$bin" '
function is_guest(name) {
	return name ~ /^(guest_|xvt_guest_)/ || name == "ucall"
}
/^[0-9a-f]+ <[^>]+>:$/ {
	fn = $2
	gsub(/[<>:]/, "", fn)
	in_guest = is_guest(fn)
	next
}
in_guest && /%[xyz]mm[0-9]/ && !sse_seen[fn]++ {
	printf "%s: %s uses SSE/AVX registers:%s\n", bin, fn, $0
	bad = 1
}
in_guest && /\t(call|jmp)[a-z]* +[0-9a-f]+ </ {
	target = $NF
	gsub(/[<>]/, "", target)
	sub(/\+0x[0-9a-f]+$/, "", target)
	if (!is_guest(target) && target != fn) {
		printf "%s: %s calls %s, which is not guest code\n", bin, fn, target
		bad = 1
	}
}
END { exit bad }
'
