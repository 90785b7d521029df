#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Restart the test machine while two vCPUs spin in a guest, and judge what
# the kernel printed up to the reset.
#
#   reboot-test.sh --kernel KVER --how reboot|sysrq [--cpu MODEL]
#                  [--payload DIR] [--module FILE] [--log FILE]
#                  [--timeout SECONDS]
#
# guest-reboot.sh restarts the machine with "reboot -f" (xvcpu's reboot
# notifier: no new guest entry, VMX off on every CPU) or SysRq-B (the
# emergency restart: xvcpu's emergency VMX-off callback on every CPU).
# Bochs then resets and its BIOS would boot the machine again: a second
# hardware reset in Bochs' own log (LOG.bochs) ends the run.  Passes when
# that reset came after the guest's "XVCPU-REBOOT:" line, the console up
# to it shows no kernel report (logcheck.py's list, and any "invalid
# opcode"), and xvcpu's line that its path ran: "system going down" from
# the reboot notifier, "emergency: VMX off" from the emergency callback on
# the CPU that restarts (the others run it in NMI context, silently).
# The payload needs only bin/xvcpu-run (default: build/payload).  Prints
# one TAP result (check.sh counts it) and the console's last lines when it
# fails.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm

die() { echo "reboot-test.sh: $*" >&2; exit 2; }

kver= how= cpu=skylake payload=$TOP/build/payload module= log= timeout=600
while (($#)); do
	case $1 in
	--kernel) kver=$2; shift 2 ;;
	--how) how=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--payload) payload=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ -n $kver ]] || die "need --kernel"
[[ $how == @(reboot|sysrq) ]] || die "need --how reboot|sysrq"
[[ -x $payload/bin/xvcpu-run ]] || die "no $payload/bin/xvcpu-run"
log=$(realpath -m "${log:-$TOP/build/logs/reboot-$how-$kver.log}")
mkdir -p "$(dirname "$log")"

work=$(mktemp -d "${TMPDIR:-/tmp}/xvcpu-reboot.XXXXXX")
boot=
cleanup() {
	if [[ -n $boot ]]; then
		kill -TERM "$boot" 2>/dev/null || true
		wait "$boot" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

mkdir -p "$work/payload/bin"
cp "$payload/bin/xvcpu-run" "$work/payload/bin/"
# Bochs' log of an earlier run must not count.
rm -f "$log.bochs"
t0=$SECONDS
args=(--kernel "$kver" --machine bochs --cpu "$cpu" --cpus 2
	--guest-script "$VM/guest-reboot.sh" --payload "$work/payload"
	--timeout "$timeout" --log "$log" --append "XVCPU_REBOOT=$how")
[[ -n $module ]] && args+=(--module "$module")
"$VM/boot.sh" "${args[@]}" >"$work/boot.out" 2>&1 &
boot=$!

# One "Reset(HARDWARE)" at power-on, a second one (SOFTWARE, from the
# keyboard controller) when the guest restarts.  Bochs' BIOS often
# triple-faults right after that second reset, with or without xvcpu, and
# Bochs quits: the reset is looked for once more when boot.sh has ended.
resets() {
	local n
	n=$(grep -c 'bx_pc_system_c::Reset(' "$log.bochs" 2>/dev/null) || true
	echo "${n:-0}"
}
# A restart takes seconds; a machine that hangs instead (an oops in the
# reboot path) is given RESET_WAIT seconds from the guest's last line.
RESET_WAIT=120
reset=0 deadline=
while kill -0 "$boot" 2>/dev/null; do
	if (($(resets) >= 2)); then
		reset=1
		break
	fi
	if [[ -z $deadline ]] && grep -q 'XVCPU-REBOOT:' "$log" 2>/dev/null; then
		deadline=$((SECONDS + RESET_WAIT))
	fi
	if [[ -n $deadline ]] && ((SECONDS >= deadline)); then
		break
	fi
	sleep 1
done
(($(resets) >= 2)) && reset=1
# boot.sh stops the machine on TERM; when it ended by itself, the machine
# powered off or timed out instead of resetting.
kill -TERM "$boot" 2>/dev/null || true
wait "$boot" || true
boot=
secs=$((SECONDS - t0))

rc=0
python3 - "$VM" "$log" "$how" "$reset" <<'EOF' || rc=$?
import sys

sys.path.insert(0, sys.argv[1])
import logcheck  # noqa: E402

path, how, reset = sys.argv[2], sys.argv[3], sys.argv[4] == "1"
with open(path, errors="replace") as f:
    log = [line.rstrip("\r\n").replace("\r", "") for line in f]
console = [logcheck.TIMESTAMP.sub("", line) for line in log]
bad = []
if not any(line.startswith("XVCPU-REBOOT:") for line in console):
    bad.append("no XVCPU-REBOOT line: the vCPUs never ran")
if not reset:
    bad.append("the machine did not reset")
if any(line.startswith("XVCPU-RESULT:") for line in log):
    bad.append("the guest script went on after the restart")
# The CPU that restarts says so; the others turn VMX off in NMI context.
said = {"reboot": "xvcpu: system going down", "sysrq": "xvcpu: emergency: VMX off"}
if not any(said[how] in line for line in console):
    bad.append("no line \"%s\": xvcpu's %s path did not run" %
               (said[how], "reboot notifier" if how == "reboot"
                else "emergency callback"))
problems = logcheck.dmesg_problems(console)
problems += [line for line in console
             if "invalid opcode" in line and line not in problems]
if problems:
    bad.append("kernel problems on the console:")
    bad += ["  " + line for line in problems[:20]]
for line in bad:
    print("reboot-test: " + line, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
what="reboot-test: $kver: $how under 2 spinning vCPUs"
echo "1..1"
if ((rc == 0)); then
	echo "ok 1 $what"
else
	echo "not ok 1 $what"
	echo "reboot-test.sh: the console's last lines:"
	tail -n 30 "$log" | sed 's/^/  /'
fi
echo "reboot-test.sh: rc=$rc, ${secs}s (log: ${log#"$TOP"/})"
exit "$rc"
