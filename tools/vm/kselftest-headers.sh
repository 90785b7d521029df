#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch kselftest_harness.h and kselftest.h into build/kselftest/.
#
# They ship only inside Debian's linux-source package: download the .deb
# with apt, and pull just those two files out of the source tarball it
# carries.  Idempotent: does nothing when both headers are present.
#
# Usage: kselftest-headers.sh [OUTPUT_DIR]   (default: build/kselftest)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$TOP/build/kselftest}
PKG=linux-source-6.12
HEADERS=(kselftest_harness.h kselftest.h)

have_all() {
	local h
	for h in "${HEADERS[@]}"; do
		[[ -s $OUT/$h ]] || return 1
	done
}

if have_all; then
	exit 0
fi

mkdir -p "$OUT"
work=$(mktemp -d "$OUT/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "kselftest-headers: downloading $PKG"
# apt-get download writes into the current directory.
if ! (cd "$work" && apt-get download -qq "$PKG" 2>/dev/null); then
	# A fresh machine may not have its package lists yet.
	SUDO=
	if (($(id -u) != 0)); then
		SUDO=sudo
	fi
	$SUDO apt-get update -qq
	(cd "$work" && apt-get download -qq "$PKG")
fi

deb=$(find "$work" -maxdepth 1 -name "${PKG}_*.deb" | head -n 1)
if [[ -z $deb ]]; then
	echo "kselftest-headers: $PKG download produced no .deb" >&2
	exit 1
fi

# The .deb holds usr/src/linux-source-X.Y.tar.xz; the headers sit in
# linux-source-X.Y/tools/testing/selftests/ inside it.
patterns=()
for h in "${HEADERS[@]}"; do
	patterns+=("*/tools/testing/selftests/$h")
done
echo "kselftest-headers: extracting ${HEADERS[*]}"
dpkg-deb --fsys-tarfile "$deb" |
	tar -xO --wildcards "./usr/src/$PKG.tar.*" |
	tar -xJ -C "$work" --wildcards --no-anchored "${patterns[@]}"

for h in "${HEADERS[@]}"; do
	src=$(find "$work" -path "*/tools/testing/selftests/$h" | head -n 1)
	if [[ -z $src ]]; then
		echo "kselftest-headers: $h not found in $deb" >&2
		exit 1
	fi
	install -m 0644 "$src" "$OUT/$h.tmp"
	mv "$OUT/$h.tmp" "$OUT/$h"
done
echo "kselftest-headers: ${HEADERS[*]} -> $OUT"
