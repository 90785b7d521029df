#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the host packages needed to build the module against Debian's
# kernels and to boot the emulated-VMX test machine.  Idempotent: does
# nothing when everything is installed already.
#
#   deps.sh                 what "make check" needs
#   deps.sh kernel-build    also what building a kernel needs (check-debug)
set -euo pipefail

PKGS=(
	# emulated machine: Bochs with VMX, ISOLINUX + elf.c32 boot, QEMU TCG
	bochs bochs-term bochsbios vgabios isolinux syslinux-common xorriso
	qemu-system-x86
	# initramfs and kernel images
	cpio zstd xz-utils busybox-static kmod python3 procps
	# out-of-tree module builds against unpacked Debian headers
	gcc make bc libelf1 libssl3 zlib1g pahole
	# static userspace (tools, selftests: the initramfs has no libc)
	libc6-dev
	# lint: checkpatch.pl and sparse
	perl sparse
)
case ${1:-} in
"") ;;
kernel-build)
	# a kernel from Debian's linux-source: kconfig, objtool (ORC)
	PKGS+=(flex bison libelf-dev)
	;;
*)
	echo "usage: $0 [kernel-build]" >&2
	exit 2
	;;
esac

installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PKGS[@]}" \
	2>/dev/null | awk '$1 == "ii" { print $2 }' || true)
missing=()
for p in "${PKGS[@]}"; do
	grep -qx "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=
if (($(id -u) != 0)); then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
