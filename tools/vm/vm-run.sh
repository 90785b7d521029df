#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run your own program (a VMM of yours, a test) in the emulated-VMX test
# machine with xvcpu loaded; "make vm" calls this.
#
#   vm-run.sh [OPTIONS] PROG [ARGS...]      PROG: a program, copied in alone
#   vm-run.sh [OPTIONS] DIR NAME [ARGS...]  DIR: copied in whole; NAME: the
#                                           program in it to run
#
#   --kernel K     6.12 (default), 6.1, or a release of "kernels.sh list"
#   --cpu MODEL    emulated CPU: skylake (default), xsave, tigerlake, icelake
#   --cpus N       CPUs of the machine (default 2)
#   --mem MIB      RAM of the machine (default 1024)
#   --module FILE  the xvcpu.ko to load (default build/<release>/xvcpu.ko)
#   --machine M    auto (default: qemu-kvm with nested VT-x, else bochs),
#                  bochs or qemu-kvm
#   --timeout S    host seconds before the machine is killed (default 1800)
#   --log FILE     the serial log (default build/logs/vm-run.log)
#   --verbose      also print the machine's dmesg
#
# In the machine the program runs as root in /xvcpu/vm-run (its own
# directory), stdin from /dev/null, stdout and stderr on the console,
# which is streamed here as it comes.  Exit status: the program's; 125 if
# it could not be run (xvcpu did not load, the machine crashed or timed
# out); 1 if it exited 0 but the kernel logged a problem (WARNING, BUG,
# Oops, ...: tools/vm/logcheck.py, which says what on stderr); 2 for a
# bad command line.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm

# usage [STATUS]: the lines above, on stdout for --help, else on stderr
usage() {
	local help
	help=$(sed -n '/^#   vm-run.sh/,/^#   --verbose/s/^# \{0,1\}//p' \
		"${BASH_SOURCE[0]}")
	if ((${1:-2} == 0)); then
		printf 'usage:\n%s\n' "$help"
	else
		printf 'usage:\n%s\n' "$help" >&2
	fi
	exit "${1:-2}"
}
die() { echo "vm-run: $*" >&2; exit 2; }

kernel=6.12 cpu=skylake cpus=2 mem=1024 module='' machine=auto timeout=1800
log=$TOP/build/logs/vm-run.log verbose=()
while (($#)); do
	case $1 in
	--kernel) kernel=${2:?}; shift 2 ;;
	--cpu) cpu=${2:?}; shift 2 ;;
	--cpus) cpus=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--module) module=${2:?}; shift 2 ;;
	--machine) machine=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--log) log=${2:?}; shift 2 ;;
	--verbose) verbose=(--verbose); shift ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (--help)" ;;
	*) break ;;
	esac
done
(($#)) || usage
case $machine in
auto | bochs | qemu-kvm) ;;
*) die "--machine $machine: auto, bochs or qemu-kvm (the machine needs VMX)" ;;
esac

# What to copy in, and what to run there (relative to /xvcpu/vm-run)
prog=$1
shift
if [[ -d $prog ]]; then
	(($#)) || die "$prog is a directory: name the program in it to run"
	dir=$prog run=$1
	shift
	[[ $run != /* ]] || die "NAME must be a path inside $dir"
	[[ -f $dir/$run && -x $dir/$run ]] ||
		die "$dir/$run is not an executable file"
elif [[ -f $prog && -x $prog ]]; then
	dir='' run=$(basename "$prog")
else
	die "$prog is not an executable file or a directory"
fi

kver=$(XVCPU_KERNELS=$kernel "$VM/kernels.sh" list) ||
	die "kernel $kernel not available: run 'make module' first"
module=${module:-$TOP/build/$kver/xvcpu.ko}
[[ -f $module ]] || die "no module $module: run 'make module' first"

mkdir -p "$TOP/build/vm" "$(dirname "$log")"
payload=$(mktemp -d "$TOP/build/vm/vm-run.XXXXXX")
trap 'rm -rf "$payload"' EXIT
mkdir "$payload/vm-run"
if [[ -n $dir ]]; then
	cp -a "$dir"/. "$payload/vm-run/"
else
	cp -a "$prog" "$payload/vm-run/$run"
fi

# The command line for the guest's sh: every word in single quotes
quote() {
	local s=${1//\'/\'\\\'\'}
	printf " '%s'" "$s"
}
{
	printf 'set --'
	quote "./$run"
	for a in "$@"; do
		quote "$a"
	done
	printf '\n'
} >"$payload/vm-run.cmd"

echo "vm-run: booting $kver ($machine machine, $cpu CPU model, $cpus" \
	"CPUs) to run ./$run; serial log: $log" >&2
# The console as it comes, less the lines meant for boot.sh and its
# summary, which goes to stderr.
rc=0
"$VM/boot.sh" --kernel "$kver" --machine "$machine" --cpu "$cpu" \
	--cpus "$cpus" --mem "$mem" --module "$module" \
	--guest-script "$VM/guest-vm-run.sh" --payload "$payload" \
	--timeout "$timeout" --log "$log" "${verbose[@]}" |
while IFS= read -r line; do
	case $line in
	XVCPU-BOOT:* | XVCPU-SCRIPT-EXIT:* | XVCPU-RESULT:*) ;;
	"boot.sh: "*) echo "vm-run: ${line#boot.sh: }" >&2 ;;
	*) printf '%s\n' "$line" ;;
	esac
done || rc=$?	# boot.sh's status (pipefail; the loop returns 0)
exit "$rc"
