#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian 12 kernels the module is built for and tested on, unpacked under
# build/kernels/<kver>/ without installing them on the host.
#
#   kernels.sh fetch          download and unpack image + headers (idempotent)
#   kernels.sh list           kernel release strings, oldest series first
#   kernels.sh headers KVER   the headers directory (make -C target)
#   kernels.sh image KVER     the vmlinuz path
#   kernels.sh modules KVER   the /lib/modules/KVER directory
#
# XVCPU_KERNELS selects the series, default "6.1 6.12".  An entry may also
# be a full release string already unpacked under build/kernels/, or
# "debug": the debug kernel that debug-kernel.sh builds from Debian's
# linux-source (KASAN, lockdep, kmemleak; "make check-debug").
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KDIR=$TOP/build/kernels
SERIES=${XVCPU_KERNELS:-6.1 6.12}
SUDO=
if (($(id -u) != 0)); then
	SUDO=sudo
fi

die() { echo "kernels.sh: $*" >&2; exit 1; }

# Metapackage whose dependency names the newest image of a series.
meta_of() {
	case $1 in
	6.1) echo linux-image-amd64 ;;
	*) echo "linux-image-$1-amd64" ;;
	esac
}

newest() {
	apt-cache depends "$(meta_of "$1")" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(.*-amd64\)$/\1/p' | head -n1
}

# Newest kernel release string of a series, from the apt cache (updated
# once if it does not know the series: a fresh machine may have no lists).
resolve() {
	local img
	img=$(newest "$1")
	if [[ -z $img ]]; then
		$SUDO apt-get update -qq
		img=$(newest "$1")
	fi
	[[ -n $img ]] || die "no kernel found for series $1"
	case $img in
	"$1".*) echo "$img" ;;
	*) die "series $1 resolved to unexpected $img" ;;
	esac
}

fetch_one() {
	local series=$1 kver dest deb common kbuild
	kver=$(resolve "$series")
	dest=$KDIR/$kver
	echo "$kver" >"$KDIR/series-$series"
	if [[ -e $dest/.done ]]; then
		return 0
	fi
	echo "kernels: fetching $kver"
	# headers-KVER depends on its -common and linux-kbuild packages.
	common=$(apt-cache depends "linux-headers-$kver" |
		sed -n 's/^ *Depends: \(linux-headers-.*-common\)$/\1/p' | head -n1)
	kbuild=$(apt-cache depends "linux-headers-$kver" |
		sed -n 's/^ *Depends: \(linux-kbuild-.*\)$/\1/p' | head -n1)
	[[ -n $common && -n $kbuild ]] || die "cannot resolve headers of $kver"

	rm -rf "$dest" "$KDIR/debs/$kver"
	mkdir -p "$dest" "$KDIR/debs/$kver"
	(cd "$KDIR/debs/$kver" && apt-get download -q \
		"linux-image-$kver" "linux-headers-$kver" "$common" "$kbuild" \
		2>&1 | grep -v -e '^Get:' -e 'unsandboxed' || true)
	for deb in "$KDIR/debs/$kver"/*.deb; do
		dpkg -x "$deb" "$dest"
	done
	# The headers Makefile includes the -common tree by absolute path.
	sed -i "s|^include /usr/src/|include $dest/usr/src/|" \
		"$dest/usr/src/linux-headers-$kver/Makefile"
	[[ -f $dest/boot/vmlinuz-$kver ]] || die "no vmlinuz in $kver"
	rm -rf "$KDIR/debs/$kver"
	touch "$dest/.done"
}

# Release strings of the selected kernels, as fetched.
list() {
	local s
	for s in $SERIES; do
		if [[ -e $KDIR/$s/.done ]]; then
			echo "$s"
		elif [[ -f $KDIR/series-$s ]]; then
			cat "$KDIR/series-$s"
		else
			die "series $s not fetched: run tools/vm/kernels.sh fetch"
		fi
	done
}

check_kver() {
	[[ -n ${1:-} ]] || die "missing KVER"
	[[ -e $KDIR/$1/.done ]] || die "kernel $1 not fetched"
}

case ${1:-} in
fetch)
	mkdir -p "$KDIR"
	for s in $SERIES; do
		if [[ $s == debug ]]; then
			"$TOP/tools/vm/debug-kernel.sh" build
		elif [[ ! -e $KDIR/$s/.done ]]; then
			fetch_one "$s"
		fi
	done
	;;
list)
	list
	;;
headers)
	check_kver "${2:-}"
	echo "$KDIR/$2/usr/src/linux-headers-$2"
	;;
image)
	check_kver "${2:-}"
	echo "$KDIR/$2/boot/vmlinuz-$2"
	;;
modules)
	check_kver "${2:-}"
	echo "$KDIR/$2/lib/modules/$2"
	;;
*)
	echo "usage: $0 fetch | list | headers KVER | image KVER | modules KVER" >&2
	exit 2
	;;
esac
