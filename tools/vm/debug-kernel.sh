#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel of "make check-debug": Debian's linux-source-6.12 built
# with debug-kernel.config (tinyconfig + the test machine's needs + KASAN,
# lockdep, atomic-sleep checks, kmemleak, list debug), and laid out under
# build/kernels/<kver>/ as kernels.sh lays out Debian's kernels: boot/
# vmlinuz-<kver>, lib/modules/<kver>/ and usr/src/linux-headers-<kver>
# (the kernel's build tree, for "make -C ... M=").  Its release string is
# written to build/kernels/series-debug, so "XVCPU_KERNELS=debug" selects
# it for kernels.sh list, build-module.sh all and check.sh.
#
#   debug-kernel.sh build     download, configure, build, install (idempotent:
#                             nothing to do when the package version and the
#                             config fragment are those of the last build)
#   debug-kernel.sh release   its release string (after build)
#
# The build runs under "nice -n 10" with XVCPU_JOBS_BUILD jobs (default:
# the number of CPUs).  Sources and objects: build/debug-kernel/.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$TOP/tools/vm
KDIR=$TOP/build/kernels
WORK=$TOP/build/debug-kernel
OBJ=$WORK/obj
PKG=linux-source-6.12
FRAGMENT=$VM/debug-kernel.config
JOBS=${XVCPU_JOBS_BUILD:-$(nproc)}
export ARCH=x86_64

die() { echo "debug-kernel.sh: $*" >&2; exit 1; }
now() { date +%s; }

SUDO=
if (($(id -u) != 0)); then
	SUDO=sudo
fi

# Candidate version of the package (apt lists updated once if unknown).
pkg_version() {
	local v
	v=$(apt-cache policy "$PKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [[ -z $v || $v == "(none)" ]]; then
		$SUDO apt-get update -qq
		v=$(apt-cache policy "$PKG" | sed -n 's/^ *Candidate: //p')
	fi
	[[ -n $v && $v != "(none)" ]] || die "no $PKG in apt"
	echo "$v"
}

# build/debug-kernel/linux-source-6.12 of that version.
fetch_source() {
	local ver=$1 src=$WORK/$PKG deb
	if [[ -f $src/.version && $(cat "$src/.version") == "$ver" ]]; then
		return 0
	fi
	echo "debug-kernel: fetching $PKG $ver"
	rm -rf "$src" "$WORK/deb" "$OBJ"
	mkdir -p "$WORK/deb"
	(cd "$WORK/deb" && apt-get download -q "$PKG=$ver" 2>&1 |
		grep -v -e '^Get:' -e 'unsandboxed' || true)
	deb=$(find "$WORK/deb" -maxdepth 1 -name "${PKG}_*.deb" | head -n1)
	[[ -n $deb ]] || die "download of $PKG produced no .deb"
	# The .deb holds usr/src/linux-source-6.12.tar.xz, whose top
	# directory is linux-source-6.12/.
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO --wildcards "./usr/src/$PKG.tar.*" |
		tar -xJ -C "$WORK"
	[[ -f $src/Makefile ]] || die "no $src/Makefile after unpacking"
	rm -rf "$WORK/deb"
	echo "$ver" >"$src/.version"
}

# kmemleak reports an object only once it is MSECS_MIN_AGE (5 s) old, in
# jiffies.  In Bochs those cost up to an hour: on the skylake model the
# kernel takes its TSC for 3.5 GHz (CPUID leaf 0x15) while Bochs ticks it
# at 50 M per emulated second, so each guest second is ~70 emulated ones.
# The suite's one scan runs after rmmod, when nothing of xvcpu's can be
# young, so the debug kernel reports objects of any age.
KMEMLEAK_MIN_AGE_MS=0

patch_source() {
	sed -i "s/^\(#define MSECS_MIN_AGE[[:space:]]*\)[0-9]*/\1$KMEMLEAK_MIN_AGE_MS/" \
		"$1/mm/kmemleak.c"
	grep -q "^#define MSECS_MIN_AGE[[:space:]]*$KMEMLEAK_MIN_AGE_MS[[:space:]]" \
		"$1/mm/kmemleak.c" || die "cannot set kmemleak's MSECS_MIN_AGE"
}

build() {
	local ver stamp src kver dest t0 t1
	ver=$(pkg_version)
	stamp="$ver $(sha256sum "$FRAGMENT" | cut -d' ' -f1) min-age=$KMEMLEAK_MIN_AGE_MS"
	if [[ -f $KDIR/series-debug ]]; then
		kver=$(cat "$KDIR/series-debug")
		if [[ -f $KDIR/$kver/.done &&
			$(cat "$KDIR/$kver/.done") == "$stamp" ]]; then
			return 0
		fi
	fi
	"$VM/deps.sh" kernel-build
	mkdir -p "$WORK" "$KDIR"
	fetch_source "$ver"
	src=$WORK/$PKG
	patch_source "$src"

	# tinyconfig is tiny-base.config on allnoconfig, then tiny.config
	# (arch/x86's tiny.config only concerns 32-bit kernels).
	echo "debug-kernel: configuring"
	mkdir -p "$OBJ"
	(cd "$src" && scripts/kconfig/merge_config.sh -n -O "$OBJ" \
		kernel/configs/tiny-base.config kernel/configs/tiny.config \
		"$FRAGMENT") >"$WORK/config.log" 2>&1 ||
		{ cat "$WORK/config.log" >&2; die "configuration failed"; }
	# Every line of the fragment must hold in the result.
	if grep -q "not in final" "$WORK/config.log"; then
		grep -A2 "not in final" "$WORK/config.log" >&2
		die "$FRAGMENT does not hold in the final .config"
	fi
	kver=$(make -s -C "$src" O="$OBJ" kernelrelease)

	echo "debug-kernel: building $kver ($JOBS jobs, log in $WORK/build.log)"
	t0=$(now)
	if ! nice -n 10 make -C "$src" O="$OBJ" -j"$JOBS" \
		>"$WORK/build.log" 2>&1; then
		tail -n 40 "$WORK/build.log" >&2
		die "build failed"
	fi
	t1=$(now)
	echo "debug-kernel: built in $((t1 - t0)) s"

	dest=$KDIR/$kver
	rm -rf "$dest"
	mkdir -p "$dest/boot" "$dest/usr/src"
	cp "$OBJ/arch/x86/boot/bzImage" "$dest/boot/vmlinuz-$kver"
	make -s -C "$src" O="$OBJ" INSTALL_MOD_PATH="$dest" \
		modules_install >>"$WORK/build.log" 2>&1 ||
		die "modules_install failed"
	rm -f "$dest/lib/modules/$kver/build"
	ln -s "../../../../debug-kernel/obj" \
		"$dest/usr/src/linux-headers-$kver"
	# mkpvh.py's cache of the decompressed kernel: newer than the image.
	cp "$OBJ/arch/x86/boot/compressed/vmlinux.bin" "$dest/vmlinux"
	echo "$stamp" >"$dest/.done"
	echo "$kver" >"$KDIR/series-debug"
}

case ${1:-} in
build)
	build
	;;
release)
	[[ -f $KDIR/series-debug ]] || die "not built: run $0 build"
	cat "$KDIR/series-debug"
	;;
*)
	echo "usage: $0 build | release" >&2
	exit 2
	;;
esac
