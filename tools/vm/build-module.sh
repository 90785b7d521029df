#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build xvcpu.ko against each Debian kernel's unpacked headers.
#
#   build-module.sh all     every kernel of "kernels.sh list"
#   build-module.sh KVER    one kernel -> build/KVER/xvcpu.ko
#   build-module.sh lint    checkpatch --strict, then sparse and the layer
#                           check (layers.py) on every kernel
#                           (in build/KVER/lint)
#
# Each kernel builds in its own copy of the sources (build/KVER/src) so
# objects of different kernels never mix.  Any compiler or modpost warning
# fails the build.  XVCPU_SRC overrides the source tree (default: repo).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=$(cd "${XVCPU_SRC:-$TOP}" && pwd)
BUILD=$TOP/build
KERNELS=$TOP/tools/vm/kernels.sh
SOURCES=(Kbuild kmod uapi include)

die() { echo "build-module.sh: $*" >&2; exit 1; }

# Mirror the module sources into $1, keeping timestamps of unchanged files
# so that kbuild rebuilds only what changed.
sync_src() {
	local dst=$1 f
	mkdir -p "$dst"
	for f in "${SOURCES[@]}"; do
		[[ -e $SRC/$f ]] && cp -a "$SRC/$f" "$dst/"
	done
	# Drop sources deleted upstream (objects are kbuild's business).
	(cd "$dst" && find . -type f \( -name '*.[chS]' -o -name Kbuild \
		-o -name Makefile \) -print) | while read -r f; do
		[[ -e $SRC/$f ]] || rm -f "$dst/$f"
	done
}

# Fail when a kbuild log shows a warning from the compiler, sparse or modpost.
check_log() {
	if grep -qi 'warning:\|error:' "$1"; then
		echo "build-module.sh: warnings in $1:" >&2
		grep -i -B2 -A3 'warning:\|error:' "$1" >&2
		return 1
	fi
}

build_one() {
	local kver=$1 hdr out log lock
	hdr=$("$KERNELS" headers "$kver")
	out=$BUILD/$kver
	log=$out/build.log
	mkdir -p "$out"
	# Concurrent builds for one kernel take turns.
	exec {lock}>"$out/.lock"
	flock "$lock"
	sync_src "$out/src"
	echo "  MODULE  $kver"
	if ! make -s -C "$hdr" M="$out/src" W=1 modules >"$log" 2>&1; then
		rm -f "$out/xvcpu.ko"
		cat "$log" >&2
		die "build failed for $kver"
	fi
	if ! check_log "$log"; then
		# The objects are built: start over so the warning shows again.
		rm -rf "$out/src" "$out/xvcpu.ko"
		die "warnings for $kver"
	fi
	cp "$out/src/kmod/xvcpu.ko" "$out/xvcpu.ko.tmp"
	mv "$out/xvcpu.ko.tmp" "$out/xvcpu.ko"
	exec {lock}>&-
}

# checkpatch.pl is not in the headers packages: take it (and the data
# files it reads) from the linux-source package of the newest series.
get_checkpatch() {
	local dir=$BUILD/checkpatch pkg tmp
	if [[ -x $dir/checkpatch.pl ]]; then
		echo "$dir/checkpatch.pl"
		return
	fi
	pkg=$(apt-cache depends linux-source-6.12 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-source-6\.12\)$/\1/p' | head -n1)
	pkg=${pkg:-linux-source-6.12}
	tmp=$(mktemp -d "$BUILD/.cp.XXXXXX")
	(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
		die "cannot download $pkg"
	dpkg-deb --fsys-tarfile "$tmp"/*.deb |
		tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$tmp" --wildcards --strip-components=1 \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch'
	mkdir -p "$dir"
	mv "$tmp"/scripts/* "$dir/"
	rm -rf "$tmp"
	echo "$dir/checkpatch.pl"
}

lint() {
	local cp files kver hdr log rc=0
	cp=$(get_checkpatch)
	mapfile -t files < <(cd "$SRC" && ls kmod/*.[chS] uapi/*.h \
		include/xvcpu/*.h 2>/dev/null)
	((${#files[@]})) || die "no sources to lint"
	echo "  CHECKPATCH ${#files[@]} files"
	(cd "$SRC" && "$cp" --strict --no-tree --terse --show-types -f \
		"${files[@]}") || rc=1
	rm -f "$SRC"/.checkpatch-camelcase.*	# checkpatch's cache
	for kver in $("$KERNELS" list); do
		hdr=$("$KERNELS" headers "$kver")
		log=$BUILD/$kver/sparse.log
		echo "  SPARSE  $kver"
		# Its own copy, so that lint never races with a module build.
		sync_src "$BUILD/$kver/lint"
		# C=2 checks every file, also those already compiled.
		if ! make -s -C "$hdr" M="$BUILD/$kver/lint" C=2 modules \
			>"$log" 2>&1; then
			cat "$log" >&2
			rc=1
			continue
		fi
		check_log "$log" || rc=1
		# kmod's files call only downward (README, "Layers")
		"$TOP/tools/vm/layers.py" "$SRC/README.md" "$BUILD/$kver/lint/kmod" ||
			rc=1
	done
	return $rc
}

case ${1:-} in
all)
	for k in $("$KERNELS" list); do
		build_one "$k"
	done
	;;
lint)
	lint
	;;
"" | -*)
	echo "usage: $0 all | KVER | lint" >&2
	exit 2
	;;
*)
	build_one "$1"
	;;
esac
