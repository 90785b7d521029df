#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test machine's initramfs: busybox, an /init that runs one guest
# script and dumps dmesg, the payload under /xvcpu and the kernel's KVM
# modules (so that "modprobe kvm_intel" works in the guest).
#
#   mkinitramfs.sh --kernel KVER --script FILE [--payload DIR]
#                  [--module FILE] [--compress none|gzip|zstd] -o OUT
#
# Payload layout: DIR/bin/*, DIR/guests/*, DIR/selftests/*; --module is
# installed as /xvcpu/xvcpu.ko (default build/KVER/xvcpu.ko if present).
# Dynamically linked payload programs get their shared libraries copied.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KERNELS=$TOP/tools/vm/kernels.sh

die() { echo "mkinitramfs.sh: $*" >&2; exit 1; }

# Uncompressed by default: in Bochs, unpacking a gzip or zstd initramfs
# costs the guest more (~4 s) than loading the larger image.
kver= script= payload= module= out= compress=none
while (($#)); do
	case $1 in
	--kernel) kver=$2; shift 2 ;;
	--script) script=$2; shift 2 ;;
	--payload) payload=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--compress) compress=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ -n $kver && -n $script && -n $out ]] || die "need --kernel, --script, -o"
[[ -f $script ]] || die "no guest script $script"
if [[ -z $module && -f $TOP/build/$kver/xvcpu.ko ]]; then
	module=$TOP/build/$kver/xvcpu.ko
fi
kmods=$("$KERNELS" modules "$kver")

root=$(mktemp -d "${TMPDIR:-/tmp}/xvcpu-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
trap 'exit 143' TERM INT HUP
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,xvcpu,lib/modules/"$kver"}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
if (($(id -u) == 0)); then
	mknod -m 600 "$root/dev/console" c 5 1
fi

# /init: everything after the guest script is for the host (boot.sh).
cat >"$root/init" <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
exec </dev/console >/dev/console 2>&1
export PATH=/xvcpu/bin:/sbin:/bin HOME=/ TERM=dumb
echo "XVCPU-BOOT: $(uname -r) $(nproc) cpus"
cd /tmp
sh /guest.sh
echo "XVCPU-SCRIPT-EXIT: $?"
echo "XVCPU-DMESG-BEGIN"
dmesg
echo "XVCPU-DMESG-END"
# Closing the console lets the kernel drain the UART before power-off.
exec 0<&- 1>&- 2>&-
poweroff -f
EOF
chmod 755 "$root/init"
install -m 755 "$script" "$root/guest.sh"

# Payload, the module under test and shared libraries of dynamic programs.
if [[ -n $payload ]]; then
	[[ -d $payload ]] || die "no payload directory $payload"
	cp -a "$payload"/. "$root/xvcpu/"
fi
if [[ -n $module ]]; then
	install -m 644 "$module" "$root/xvcpu/xvcpu.ko"
fi
# Debug info only makes the image slower to load; symbols stay.
find "$root/xvcpu" -type f \( -perm -u+x -o -name '*.ko' \) \
	-exec strip --strip-debug {} + 2>/dev/null || true
find "$root/xvcpu" -type f -perm -u+x | while read -r prog; do
	{ ldd "$prog" 2>/dev/null || true; } |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# kvm_intel and its dependencies, uncompressed, with a modules.dep.
add_kmod() {
	local name=$1 f dst dep
	f=$(find "$kmods/kernel" -name "$name.ko" -o -name "$name.ko.xz" |
		head -n1)
	[[ -n $f ]] || die "module $name not found in $kmods"
	dst=$root/lib/modules/$kver/${f#"$kmods"/}
	dst=${dst%.xz}
	[[ -e $dst ]] && return 0
	mkdir -p "$(dirname "$dst")"
	case $f in
	*.xz) xz -dc "$f" >"$dst" ;;
	*) cp "$f" "$dst" ;;
	esac
	for dep in $(modinfo -F depends "$dst" | tr , ' '); do
		add_kmod "$dep"
	done
}
add_kmod kvm-intel
cp "$kmods"/modules.{builtin,builtin.modinfo,order} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"

case $compress in
none) filter=(cat) ;;
gzip) filter=(gzip -6) ;;
zstd) filter=(zstd -q -9) ;;
*) die "unknown compression $compress" ;;
esac
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | "${filter[@]}" >"$out.tmp"
mv "$out.tmp" "$out"
