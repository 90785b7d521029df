#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one test machine, run a guest script in it and judge the result.
#
#   boot.sh --kernel KVER --guest-script FILE [--machine auto|bochs|qemu-tcg|
#           qemu-kvm] [--cpu skylake|xsave|tigerlake|icelake] [--cpus N] [--mem MIB]
#           [--payload DIR] [--module FILE] [--timeout SECONDS] [--log FILE]
#           [--append ARGS] [--verbose]
#
# The guest script's output ends with "XVCPU-RESULT: <rc>"; then /init dumps
# dmesg.  Exit status: the guest's rc, or non-zero when the result never
# arrives (crash, timeout) or dmesg shows a kernel problem (logcheck.py).
#
# bochs: emulated VMX (the machine for real tests), booted through
# ISOLINUX + elf.c32 with a host-built PVH image (mkpvh.py).  --cpu picks
# the emulated CPU (bochs only): skylake (corei7_skylake_x, the default: no
# XSAVE in the guest kernel, no PKU/CET/MTF), xsave (Bochs' configurable CPU
# with XSAVE/AVX that the guest kernel keeps on), tigerlake (MTF, PKU, CET,
# LA57 in CPUID; 6.1 does not boot on it), icelake (corei7_icelake_u: MTF,
# as tigerlake).
# qemu-tcg: no VMX at all.  qemu-kvm: nested VMX on a host with VT-x.
# auto: qemu-kvm when usable, else bochs.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm
BUILD=$TOP/build

CMDLINE="console=ttyS0,115200 quiet loglevel=3 mitigations=off nokaslr
cryptomgr.notests tsc=reliable no_timer_check rodata=off
initcall_blacklist=jent_mod_init,bpf_tcp_ca_kfunc_init"

die() { echo "boot.sh: $*" >&2; exit 2; }

kver= machine=auto cpu=skylake cpus= mem=1024 script= payload= module= timeout=900
log= append= verbose=0
while (($#)); do
	case $1 in
	--kernel) kver=$2; shift 2 ;;
	--machine) machine=$2; shift 2 ;;
	--cpu)
		case $2 in
		skylake | xsave | tigerlake | icelake) cpu=$2 ;;
		*) die "unknown --cpu $2" ;;
		esac
		shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--guest-script) script=$2; shift 2 ;;
	--payload) payload=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--verbose) verbose=1; shift ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ -n $kver && -n $script ]] || die "need --kernel and --guest-script"
cpus=${cpus:-2}

kvm_usable() {
	[[ -w /dev/kvm ]] && grep -qw vmx /proc/cpuinfo &&
		grep -qx '[Y1]' /sys/module/kvm_intel/parameters/nested 2>/dev/null
}
if [[ $machine == auto ]]; then
	if kvm_usable; then machine=qemu-kvm; else machine=bochs; fi
fi

mkdir -p "$BUILD/vm"
work=$(mktemp -d "$BUILD/vm/run.XXXXXX")
log=$(realpath -m "${log:-$work/serial.log}")
mkdir -p "$(dirname "$log")"
: >"$log"
pid=
cleanup() {
	[[ -n $pid ]] && kill -KILL -- "-$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

t0=$(date +%s.%N)
initrd=$work/initrd
mkargs=(--kernel "$kver" --script "$script" -o "$initrd")
[[ -n $payload ]] && mkargs+=(--payload "$payload")
[[ -n $module ]] && mkargs+=(--module "$module")
"$VM/mkinitramfs.sh" "${mkargs[@]}"
vmlinuz=$("$VM/kernels.sh" image "$kver")
cmdline=$(echo $CMDLINE $append)
# The guest's environment (the kernel hands unknown name=value parameters to
# /init) names the emulated CPU, for tests that must know an emulator gap.
[[ $machine == bochs ]] && cmdline+=" XVCPU_BOCHS_CPU=$cpu"
# 6.12 has no intel_idle table for tigerlake/icelake and idles them with
# MONITOR/MWAIT, whose wake-ups Bochs 2.7 loses (a CPU then sleeps up to
# about a second of guest time: module_test ran 30 times slower).
[[ $machine == bochs && $cpu == @(tigerlake|icelake) ]] && cmdline+=" idle=halt"

# The bochsrc "cpu:" (and "cpuid:") lines of each emulated CPU.
bochs_cpu() {
	local common="count=$cpus, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=1"
	case $cpu in
	skylake) echo "cpu: model=corei7_skylake_x, $common" ;;
	tigerlake) echo "cpu: model=tigerlake, $common" ;;
	icelake) echo "cpu: model=corei7_icelake_u, $common" ;;
	xsave)
		# No model: the cpuid line decides.  Family 6 model 0x55 (a
		# Skylake-SP), GenuineIntel so that kvm_intel loads too; XSAVE
		# with x87/SSE/AVX, which Bochs describes consistently here.
		echo "cpu: $common"
		echo "cpuid: x86_64=1, level=6, mmx=1, sep=1, simd=avx2, apic=x2apic," \
			"aes=1, movbe=1, xsave=1, xsaveopt=1, avx_f16c=1, avx_fma=1," \
			"bmi=bmi2, 1g_pages=1, pcid=1, fsgsbase=1, smep=1, smap=1," \
			"vmx=2, family=6, model=0x55, stepping=4," \
			"vendor_string=\"GenuineIntel\"," \
			"brand_string=\"xvcpu test CPU (Bochs configurable, XSAVE)\""
		;;
	esac
}

start_bochs() {
	local iso=$work/iso
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin "$iso/isolinux/"
	cp /usr/lib/syslinux/modules/bios/{ldlinux,libcom32,elf}.c32 \
		"$iso/isolinux/"
	printf 'DEFAULT pvh\nPROMPT 0\nLABEL pvh\n  COM32 elf.c32\n  APPEND /pvh.elf\n' \
		>"$iso/isolinux/isolinux.cfg"
	"$VM/mkpvh.py" --kernel "$vmlinuz" --initrd "$initrd" \
		--cmdline "$cmdline" --mem-mib "$mem" \
		--vmlinux-cache "$BUILD/kernels/$kver/vmlinux" -o "$iso/pvh.elf"
	xorriso -as mkisofs -quiet -o "$work/boot.iso" \
		-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
		-boot-load-size 4 -boot-info-table "$iso" 2>/dev/null
	rm -rf "$iso"
	cat >"$work/bochsrc" <<-EOF
	megs: $mem
	romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
	vgaromimage: file=/usr/share/vgabios/vgabios.bin
	$(bochs_cpu)
	clock: sync=none
	ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev=$log
	port_e9_hack: enabled=1
	panic: action=fatal
	log: $log.bochs
	display_library: term
	EOF
	echo c >"$work/bochs.rc"
	# Own process group, so that a timeout can kill all of it.
	TERM=dumb setsid bochs -q -f "$work/bochsrc" -rc "$work/bochs.rc" \
		</dev/null >"$work/bochs.out" 2>&1 &
	pid=$!
}

start_qemu() {
	local accel=(-accel tcg -cpu max)
	if [[ $machine == qemu-kvm ]]; then
		accel=(-enable-kvm -cpu host)
	fi
	setsid qemu-system-x86_64 "${accel[@]}" -m "$mem" -smp "$cpus" \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "$cmdline panic=-1" -no-reboot \
		-display none -monitor none -serial "file:$log" \
		</dev/null >"$work/qemu.out" 2>&1 &
	pid=$!
}

case $machine in
bochs) start_bochs ;;
qemu-tcg | qemu-kvm) start_qemu ;;
*) die "unknown machine $machine" ;;
esac

# Follow the serial log until the machine exits, or kill it at the timeout
# or as soon as the guest kernel panics (Bochs would sit there forever).
# The watchdog outlives a killed boot.sh, so that the machine still dies at
# the timeout; it stops as soon as the machine is gone.
(
	end=$((SECONDS + timeout))
	while kill -0 "$pid"; do
		if ((SECONDS >= end)); then
			echo timeout >"$work/killed"
			kill -KILL -- "-$pid"
			break
		fi
		sleep 1
	done
) >/dev/null 2>&1 &
watchdog=$!
# bash reports the killed machine on its stderr: keep that quiet.
exec 3>&2 2>/dev/null
start=$SECONDS
: >"$log.times"
tail -n +1 -s 0.2 -f --pid="$pid" "$log" | while IFS= read -r line; do
	line=${line//$'\r'/}
	case $line in
	XVCPU-RESULT:*) date +%s.%N >"$work/result-time" ;;
	# Host seconds since the start at each outer TAP line: what each
	# selftest binary costs in wall time (guest time is skewed).
	"ok "[0-9]* | "not ok "[0-9]*)
		printf '%s %s\n' "$((SECONDS - start))" "$line" >>"$log.times" ;;
	XVCPU-DMESG-BEGIN) quiet=1 ;;
	XVCPU-DMESG-END) continue ;;
	*"---[ end Kernel panic"*)
		echo panic >"$work/killed"
		kill -KILL -- "-$pid" 2>/dev/null ;;
	esac
	if ((verbose || !${quiet:-0})); then
		printf '%s\n' "$line"
	fi
done &
# In the background so that a signal to boot.sh is handled at once.
wait $! || true
wait "$pid" || true
pid=
wait "$watchdog" || true
exec 2>&3 3>&-
elapsed() { printf '%.1fs' "$(echo "$1 - $t0" | bc)"; }
secs=$(elapsed "$(date +%s.%N)")
if [[ -e $work/result-time ]]; then
	secs="result at $(elapsed "$(cat "$work/result-time")"), $secs"
fi

rc=0
"$VM/logcheck.py" "$log" || rc=$?
why=
if [[ -e $work/killed ]]; then
	why=" ($(cat "$work/killed"))"
	if [[ $(cat "$work/killed") == timeout ]]; then
		why=" (timeout after ${timeout}s)"
	fi
	((rc)) || rc=125
fi
[[ $machine == bochs ]] && machine="bochs $cpu"
echo "boot.sh: $kver on $machine, $cpus cpus: rc=$rc$why, $secs"
exit "$rc"
