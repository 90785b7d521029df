#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build xvcpu's Debian packages in a clean Debian 12 (bookworm) chroot,
# install them there, check what they installed, purge them and check that
# nothing of theirs is left:
#
#   - dpkg-buildpackage -us -uc -b on a copy of the tree (the files git
#     knows, as they are in the working tree);
#   - DKMS builds and installs xvcpu.ko for every kernel whose headers the
#     chroot has (linux-headers-amd64), as "dkms status" and modinfo see it;
#   - a small program built with "pkg-config --cflags --libs libxvcpu"
#     (and once statically) runs, and so does xvcpu-run;
#   - after "apt-get purge", dkms status is empty and no file under /usr,
#     /etc, /lib or /var/lib/dkms is new compared to before the install
#     (but depmod's indexes in /lib/modules/KVER and the signing key DKMS
#     makes for itself on its first build, /var/lib/dkms/mok.*);
#   - then "make install" (no DESTDIR, PREFIX=/usr/local) in the same copy:
#     the module with depmod, the udev rule, the library, xvcpu-run and
#     the man pages work the same way; "make uninstall" leaves no file.
#
# Needs root (debootstrap, chroot, mount).  The chroot is made once with
# debootstrap and cached in build/chroot/bookworm with the build
# dependencies; later runs reuse it.  The mirror is the host's (from
# /etc/apt/sources.list and sources.list.d); XVCPU_MIRROR and
# XVCPU_SECURITY_MIRROR override it.  Logs and the .debs: build/pkg/.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUITE=bookworm
CHROOT=$TOP/build/chroot/$SUITE
OUT=$TOP/build/pkg
PKGS=(xvcpu-dkms libxvcpu1 libxvcpu-dev xvcpu-tools)
BUILD_DEPS=(build-essential debhelper dh-dkms dkms pkg-config
	    linux-headers-amd64 lintian)

T0=$SECONDS
die() { echo "test-deb.sh: FAIL: $*" >&2; exit 1; }
say() { printf 'test-deb.sh: [%4ds] %s\n' $((SECONDS - T0)) "$*"; }

[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot, mount)"
if ! command -v debootstrap >/dev/null && command -v apt-get >/dev/null; then
	say "installing debootstrap on this machine"
	apt-get install -y debootstrap >/dev/null
fi
command -v debootstrap >/dev/null || die "debootstrap is missing"

# The URI the host's apt uses for suite $1 ("bookworm", "bookworm-security"):
# one-line .list entries and deb822 .sources stanzas.
host_mirror() {
	local want=$1 f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -r $f ]] || continue
		awk -v s="$want" '$1 == "deb" {
			i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		awk -v s="$want" '
			/^[ \t]*$/ { if (deb && uri && hit) exit
				     deb = uri = hit = 0; next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++)
				if ($i == "deb") deb = 1 }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++)
				if ($i == s) hit = 1 }
			END { if (deb && uri && hit) print uri }' "$f"
	done
}

# Any suite's mirror will do for bookworm's (the host may run another one).
MIRROR=${XVCPU_MIRROR:-$(host_mirror "$SUITE" | head -n1)}
[[ -n $MIRROR ]] || MIRROR=$(host_mirror trixie | head -n1)
[[ -n $MIRROR ]] || die "no Debian mirror in /etc/apt; set XVCPU_MIRROR"
SECURITY=${XVCPU_SECURITY_MIRROR-$(host_mirror "$SUITE-security" | head -n1)}

mounted=()
cleanup() {
	local m i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		m=${mounted[i]}
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}
trap cleanup EXIT

in_chroot() {
	chroot "$CHROOT" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

mount_chroot() {
	mountpoint -q "$CHROOT/proc" && return
	mount -t proc proc "$CHROOT/proc"
	mounted+=("$CHROOT/proc")
}

mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.deb

# ---- the chroot (cached) ----
if [[ ! -e $CHROOT/.xvcpu-base ]]; then
	say "debootstrap $SUITE from $MIRROR into $CHROOT"
	rm -rf "$CHROOT.new"
	mkdir -p "$(dirname "$CHROOT")"
	debootstrap --variant=minbase "$SUITE" "$CHROOT.new" "$MIRROR" \
		>"$OUT/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $OUT/debootstrap.log"
	{
		echo "deb $MIRROR $SUITE main"
		echo "deb $MIRROR $SUITE-updates main"
		[[ -z $SECURITY ]] || echo "deb $SECURITY $SUITE-security main"
	} >"$CHROOT.new/etc/apt/sources.list"
	# Nothing installed here starts a service.
	printf '#!/bin/sh\nexit 101\n' >"$CHROOT.new/usr/sbin/policy-rc.d"
	chmod 0755 "$CHROOT.new/usr/sbin/policy-rc.d"
	touch "$CHROOT.new/.xvcpu-base"
	mv "$CHROOT.new" "$CHROOT"
fi
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
# No /dev/pts in the chroot: dpkg needs no terminal.
echo 'Dpkg::Use-Pty "0";' >"$CHROOT/etc/apt/apt.conf.d/90no-pty"
mount_chroot
if [[ $(cat "$CHROOT/.xvcpu-base") != "${BUILD_DEPS[*]}" ]]; then
	say "installing the build dependencies: ${BUILD_DEPS[*]}"
	{ in_chroot apt-get update &&
	  in_chroot apt-get install -y --no-install-recommends "${BUILD_DEPS[@]}"
	} >"$OUT/deps.log" 2>&1 || die "apt-get failed, see $OUT/deps.log"
	echo "${BUILD_DEPS[*]}" >"$CHROOT/.xvcpu-base"
fi

# Left over from a run that failed half-way.
# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
left=$(in_chroot dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' \
	"${PKGS[@]}" 2>/dev/null | awk '$1 != "un" && $1 != "pn" { print $2 }' |
	tr '\n' ' ' || true)
if [[ -n $left ]]; then
	say "purging packages an earlier run left: $left"
	# shellcheck disable=SC2086
	in_chroot apt-get purge -y $left >"$OUT/purge-old.log" 2>&1 ||
		die "could not purge $left, see $OUT/purge-old.log"
fi
rm -rf "$CHROOT/build/xvcpu"

# (build is an absolute symbolic link: follow it inside the chroot)
# shellcheck disable=SC2016 # run by the chroot's shell
KVERS=$(in_chroot sh -c 'for k in /lib/modules/*; do
	if [ -e "$k/build/Makefile" ]; then echo "${k##*/}"; fi; done')
[[ -n $KVERS ]] || die "no kernel headers in the chroot"
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
say "xvcpu $VERSION; chroot kernels with headers: $KVERS"

# ---- build ----
mkdir -p "$CHROOT/build/xvcpu/src"
if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
	 while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
	 tar -c --null -T - -f -) | tar -x -C "$CHROOT/build/xvcpu/src" -f -
else
	(cd "$TOP" && tar -c --exclude=./build -f - .) |
		tar -x -C "$CHROOT/build/xvcpu/src" -f -
fi
say "dpkg-buildpackage -us -uc -b"
t=$SECONDS
in_chroot sh -c 'cd /build/xvcpu/src && dpkg-buildpackage -us -uc -b' \
	>"$OUT/build.log" 2>&1 || die "dpkg-buildpackage failed, see $OUT/build.log"
say "built in $((SECONDS - t))s"
if grep -nE '^[^ ]+:[0-9]+:([0-9]+:)? warning:' "$OUT/build.log"; then
	die "compiler warnings in the package build, see $OUT/build.log"
fi
debs=()
for p in "${PKGS[@]}"; do
	f=$(cd "$CHROOT/build/xvcpu" && ls "${p}_${VERSION}"_*.deb 2>/dev/null) ||
		die "no $p package of version $VERSION (debian/changelog?)"
	debs+=("/build/xvcpu/$f")
	cp "$CHROOT/build/xvcpu/$f" "$OUT/"
done
for d in "${debs[@]}"; do
	echo "== $d"
	in_chroot dpkg-deb -c "$d" | awk '{ print $1, $6, $7, $8 }'
done >"$OUT/contents.log"
# Lintian's errors fail the test; its warnings are shown.
chroot --userspec=nobody:nogroup "$CHROOT" /usr/bin/env -i \
	PATH=/usr/bin:/bin HOME=/tmp LC_ALL=C.UTF-8 \
	lintian --pedantic -I "${debs[@]}" >"$OUT/lintian.log" 2>&1 || true
grep -E '^[EWI]:' "$OUT/lintian.log" || true
if grep -q '^E:' "$OUT/lintian.log"; then
	die "lintian errors, see $OUT/lintian.log"
fi

# A VMM's first steps with libxvcpu, where no /dev/xvcpu exists.
cat >"$CHROOT/build/xvcpu/use-lib.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xvcpu/libxvcpu.h>
#include <xvcpu/vmx.h>

int main(void)
{
	static unsigned char tables[XVCPU_SETUP_TABLES_SIZE];
	struct xvcpu_regs regs;
	struct xvcpu_sregs sregs;
	int fd = xvcpu_open();

	if (fd != -ENOENT) {
		printf("xvcpu_open: %d, expected -ENOENT\n", fd);
		return 1;
	}
	if (xvcpu_mode_build(XVCPU_MODE_LONG, 0x10000, 0x10000, 0x1000,
			     tables, &regs, &sregs) ||
	    regs.rip != 0x10000 || !(sregs.cr0 & 0x80000000) ||
	    !(sregs.efer & 0x400)) {
		printf("xvcpu_mode_build: not long mode\n");
		return 1;
	}
	if (strcmp(xvcpu_exit_name(XVCPU_EXIT_HLT), "HLT")) {
		printf("xvcpu_exit_name: %s\n", xvcpu_exit_name(XVCPU_EXIT_HLT));
		return 1;
	}
	printf("libxvcpu: API %d, long mode set up, CR0 %#llx EFER %#llx\n",
	       XVCPU_API_VERSION, (unsigned long long)sregs.cr0,
	       (unsigned long long)sregs.efer);
	return 0;
}
EOF

# libxvcpu as installed: pkg-config, the program above (linked dynamically
# and statically), xvcpu-run.  $1: the log; $2: where libxvcpu.so.1 is.
use_check() {
	local pcver
	pcver=$(in_chroot pkg-config --modversion libxvcpu) ||
		die "no libxvcpu.pc"
	[[ $pcver == "$VERSION" ]] ||
		die "libxvcpu.pc says $pcver, not $VERSION"
	# shellcheck disable=SC2016 # run by the chroot's shell
	in_chroot sh -ec '
		cd /build/xvcpu
		gcc -Wall -Werror -o use-lib use-lib.c \
			$(pkg-config --cflags --libs libxvcpu)
		ldd use-lib | grep "libxvcpu.so.1 => $1/libxvcpu.so.1 "
		./use-lib
		gcc -Wall -Werror -static -o use-lib-static use-lib.c \
			$(pkg-config --cflags --libs --static libxvcpu)
		if ldd use-lib-static >/dev/null 2>&1; then exit 1; fi
		./use-lib-static
		ldd "$(command -v xvcpu-run)" | grep "libxvcpu.so.1 => $1/"
		xvcpu-run --help | grep -q -- --reset-image
		rm use-lib use-lib-static
	' sh "$2" >"$1" 2>&1 || { cat "$1"; die "libxvcpu or xvcpu-run, see $1"; }
	cat "$1"
}

# Files (and with "all", directories) that may be ours; not depmod's
# indexes nor the signing key DKMS makes on its first build.
snapshot() {
	local type=(-true)
	[[ $1 == all ]] || type=(\( -type f -o -type l \))
	(cd "$CHROOT" && find usr etc lib var/lib/dkms -xdev "${type[@]}" \
		-print 2>/dev/null |
	 grep -Ev -e '^(usr/)?lib/modules/[^/]*/modules\.' \
		 -e '^etc/ld\.so\.cache$' -e '^var/lib/dkms/mok\.' |
	 LC_ALL=C sort)
}

# $1: what was removed; $2: "all" or "files"
nothing_left() {
	snapshot "$2" >"$OUT/files-after.log"
	if ! diff -u "$OUT/files-before.log" "$OUT/files-after.log" \
		>"$OUT/files.diff"; then
		cat "$OUT/files.diff"
		die "$1 left files behind (or removed some)"
	fi
	left=$(cd "$CHROOT" &&
		find usr etc lib var/lib/dkms -xdev -iname '*xvcpu*' 2>/dev/null) ||
		true
	[[ -z $left ]] || die "left after $1: $left"
}

# ---- the packages: install, check, purge ----
snapshot all >"$OUT/files-before.log"
say "installing ${PKGS[*]}"
t=$SECONDS
in_chroot apt-get install -y --no-install-recommends "${debs[@]}" \
	>"$OUT/install.log" 2>&1 || die "install failed, see $OUT/install.log"
say "installed in $((SECONDS - t))s (DKMS builds the module)"

status=$(in_chroot dkms status -m xvcpu)
echo "$status"
for k in $KVERS; do
	grep -q "^xvcpu/$VERSION, $k, x86_64: installed" <<<"$status" ||
		die "DKMS did not install xvcpu for $k"
	ko=$(cd "$CHROOT" && ls lib/modules/"$k"/updates/dkms/xvcpu.ko* 2>/dev/null) ||
		die "no xvcpu.ko under /lib/modules/$k/updates/dkms"
	magic=$(in_chroot modinfo -F vermagic "/$ko")
	[[ $magic == "$k "* ]] || die "/$ko has vermagic '$magic', not $k"
	in_chroot modinfo -F description "/$ko" | grep -q xvcpu ||
		die "/$ko is not xvcpu's module"
done
# The module builds without a warning with the kernel's own flags too.
for log in "$CHROOT"/var/lib/dkms/xvcpu/"$VERSION"/*/*/log/make.log \
	   "$CHROOT"/var/lib/dkms/xvcpu/"$VERSION"/build/make.log; do
	[[ -e $log ]] || continue
	cp "$log" "$OUT/dkms-make.log"
	if grep -E 'warning:|error:' "$log"; then
		die "warnings in DKMS's build, see $OUT/dkms-make.log"
	fi
done
[[ -e $OUT/dkms-make.log ]] || die "no make.log of DKMS's build"
[[ -f $CHROOT/lib/udev/rules.d/99-xvcpu.rules ]] || die "no udev rule"
[[ -f $CHROOT/usr/src/xvcpu-$VERSION/dkms.conf ]] || die "no dkms.conf"
use_check "$OUT/use-deb.log" /lib/x86_64-linux-gnu
for f in "$TOP"/man/*.[134]; do
	[[ -e $f ]] || continue
	s=${f##*.}
	[[ -f $CHROOT/usr/share/man/man$s/${f##*/}.gz ]] ||
		die "man page ${f##*/} not installed"
	echo "man page: /usr/share/man/man$s/${f##*/}.gz"
done

say "purging ${PKGS[*]}"
in_chroot apt-get purge -y "${PKGS[@]}" >"$OUT/purge.log" 2>&1 ||
	die "purge failed, see $OUT/purge.log"
[[ -z $(in_chroot dkms status -m xvcpu) ]] ||
	die "dkms status not empty after purge"
nothing_left "the purge" all

# ---- make install and make uninstall, without DESTDIR ----
# The same copy of the tree, from scratch.  "make uninstall" leaves the
# directories make install made (bin, lib/pkgconfig, ...): files only.
k=${KVERS%%$'\n'*}
snapshot files >"$OUT/files-before.log"
say "make install KVER=$k (PREFIX=/usr/local)"
in_chroot sh -c "cd /build/xvcpu/src && rm -rf build && make install KVER=$k" \
	>"$OUT/make-install.log" 2>&1 ||
	die "make install failed, see $OUT/make-install.log"
in_chroot modinfo -F vermagic "/lib/modules/$k/updates/xvcpu.ko" |
	grep -q "^$k " || die "no xvcpu.ko for $k in /lib/modules/$k/updates"
grep -q '^updates/xvcpu.ko:' "$CHROOT/lib/modules/$k/modules.dep" ||
	die "make install did not run depmod"
[[ -f $CHROOT/etc/udev/rules.d/99-xvcpu.rules ]] || die "no udev rule"
use_check "$OUT/use-make.log" /usr/local/lib
for f in "$TOP"/man/*.[134]; do
	[[ -e $f ]] || continue
	[[ -f $CHROOT/usr/local/share/man/man${f##*.}/${f##*/} ]] ||
		die "make install did not install man page ${f##*/}"
done
say "make uninstall KVER=$k"
in_chroot make -C /build/xvcpu/src uninstall KVER="$k" \
	>"$OUT/make-uninstall.log" 2>&1 ||
	die "make uninstall failed, see $OUT/make-uninstall.log"
if grep -q 'xvcpu' "$CHROOT/lib/modules/$k/modules.dep"; then
	die "make uninstall did not run depmod"
fi
nothing_left "make uninstall" files

rm -rf "$CHROOT/build/xvcpu"
say "PASS: packages built, installed (DKMS for $KVERS), used and purged;" \
	"make install and uninstall; logs in $OUT"
