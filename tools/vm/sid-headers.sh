#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian sid's newest kernel headers, in a sid chroot made with debootstrap
# and cached in build/chroot/sid: build-essential and the newest
# linux-headers-<release>-amd64 of sid with what it depends on (its
# -common package, linux-kbuild, the compiler the kernel was built with,
# e.g. gcc-16-for-host).  Those headers run only inside the chroot (their
# symbolic links are absolute, their tools are linked against sid's libc),
# so a module is built there, from a copy of its sources under the chroot.
#
#   sid-headers.sh            make the chroot if needed; print
#                             "release <kernel release>",
#                             "headers <headers dir, inside the chroot>" and
#                             "root <the chroot on this machine>"
#   sid-headers.sh update     apt-get update in the chroot and install sid's
#                             newest headers if they changed; then as above
#   sid-headers.sh release    only the kernel release
#   sid-headers.sh headers    only the headers directory (inside the chroot)
#   sid-headers.sh root       only the chroot directory on this machine
#   sid-headers.sh run CMD..  run CMD in the chroot (with /proc mounted;
#                             calls of this script take turns)
#
# Needs root (debootstrap, chroot, mount).  The first run takes about two
# and a half minutes (debootstrap, then about 150 MB of packages; the
# chroot takes 1 GB); later runs only read what the first one recorded.
# The mirror is this machine's (from /etc/apt/sources.list and
# sources.list.d); XVCPU_MIRROR overrides it.  sid's Release file on a
# mirror may be past its Valid-Until date, so apt in the chroot does not
# check it.  Logs: build/chroot/sid-*.log.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SUITE=sid
CHROOT=$TOP/build/chroot/$SUITE
LOGS=$TOP/build/chroot
PKGS=(build-essential)
STAMP=$CHROOT/.xvcpu-sid

T0=$SECONDS
die() { echo "sid-headers.sh: $*" >&2; exit 1; }
say() { printf 'sid-headers.sh: [%4ds] %s\n' $((SECONDS - T0)) "$*" >&2; }

usage() {
	sed -n 's/^#   //p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

cmd=${1:-show}
case $cmd in
show | update | release | headers | root) (($# <= 1)) || usage ;;
run) (($# >= 2)) || usage; shift ;;
-h | --help | *) usage ;;
esac

[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot, mount)"

# The URI the host's apt uses for suite $1: one-line .list entries and
# deb822 .sources stanzas.
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

# Any Debian suite's mirror carries sid as well.
mirror() {
	local s m
	if [[ -n ${XVCPU_MIRROR:-} ]]; then
		echo "$XVCPU_MIRROR"
		return
	fi
	for s in sid unstable trixie bookworm testing stable; do
		m=$(host_mirror "$s" | head -n1)
		if [[ -n $m ]]; then
			echo "$m"
			return
		fi
	done
	die "no Debian mirror in /etc/apt; set XVCPU_MIRROR"
}

mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[i]}" 2>/dev/null ||
			umount -l "${mounted[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

in_chroot() {
	chroot "$CHROOT" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

mount_proc() {
	mountpoint -q "$CHROOT/proc" && return
	mount -t proc proc "$CHROOT/proc"
	mounted+=("$CHROOT/proc")
}

# The newest linux-headers-<release>-amd64 apt in the chroot knows (not the
# -rt or -cloud flavours), as the kernel release.
newest_release() {
	in_chroot apt-cache pkgnames linux-headers- |
		sed -n 's/^linux-headers-\([0-9][^ ]*-amd64\)$/\1/p' |
		grep -v -e '-rt-amd64$' -e '-cloud-amd64$' |
		sort -V | tail -n1
}

# Install build-essential and the newest headers; record their release.
install_headers() {
	local rel log=$LOGS/sid-apt.log
	say "apt-get update in the chroot"
	in_chroot apt-get update >"$log" 2>&1 ||
		die "apt-get update failed, see $log"
	rel=$(newest_release)
	[[ -n $rel ]] || die "no linux-headers-*-amd64 in sid"
	if [[ -e $STAMP && $(cat "$STAMP") == "$rel" ]]; then
		say "sid's newest headers are still $rel"
		return
	fi
	say "installing ${PKGS[*]} linux-headers-$rel"
	in_chroot apt-get install -y --no-install-recommends \
		"${PKGS[@]}" "linux-headers-$rel" >>"$log" 2>&1 ||
		die "apt-get install failed, see $log"
	[[ -e $CHROOT/usr/src/linux-headers-$rel/Makefile ]] ||
		die "linux-headers-$rel has no /usr/src/linux-headers-$rel"
	echo "$rel" >"$STAMP"
}

# ---- the chroot (cached) ----
mkdir -p "$LOGS"
exec {lock}>"$LOGS/.sid.lock"
flock "$lock"
if [[ ! -e $CHROOT/.xvcpu-base ]]; then
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap on this machine"
		apt-get install -y -qq debootstrap >/dev/null
	fi
	MIRROR=$(mirror)
	say "debootstrap $SUITE from $MIRROR into $CHROOT"
	rm -rf "$CHROOT.new"
	debootstrap --variant=minbase "$SUITE" "$CHROOT.new" "$MIRROR" \
		>"$LOGS/sid-debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $LOGS/sid-debootstrap.log"
	echo "deb $MIRROR $SUITE main" >"$CHROOT.new/etc/apt/sources.list"
	{
		echo 'Acquire::Check-Valid-Until "false";'
		# No /dev/pts in the chroot: dpkg needs no terminal.
		echo 'Dpkg::Use-Pty "0";'
	} >"$CHROOT.new/etc/apt/apt.conf.d/90xvcpu"
	# Nothing installed here starts a service.
	printf '#!/bin/sh\nexit 101\n' >"$CHROOT.new/usr/sbin/policy-rc.d"
	chmod 0755 "$CHROOT.new/usr/sbin/policy-rc.d"
	touch "$CHROOT.new/.xvcpu-base"
	mv "$CHROOT.new" "$CHROOT"
fi
if [[ ! -e $STAMP || $cmd == update ]]; then
	cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
	mount_proc
	install_headers
	say "ready"
fi
REL=$(cat "$STAMP")
HDR=/usr/src/linux-headers-$REL
[[ -e $CHROOT$HDR/Makefile ]] || die "$CHROOT$HDR is gone; rm $STAMP"

case $cmd in
show | update)
	echo "release $REL"
	echo "headers $HDR"
	echo "root $CHROOT"
	;;
release) echo "$REL" ;;
headers) echo "$HDR" ;;
root) echo "$CHROOT" ;;
run)
	mount_proc
	in_chroot "$@"
	;;
esac
