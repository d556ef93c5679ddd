#!/bin/bash
# Build (cached by content) a guest initramfs: static busybox plus an /init
# that mounts proc/sys/dev, prints LKVM-GUEST-INIT-OK and then runs, in order
# of preference:
#   /tests/NAME.sh  when the kernel cmdline has lkvm_test=NAME
#   /test.sh        when present
#   an interactive shell on the console (prints LKVM-GUEST-SHELL first)
# and finally powers off with `poweroff -f`.
# Usage: guest-initramfs.sh OUT.cpio[.gz] [EXTRA_DIR]  (EXTRA_DIR is copied to /)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 OUT.cpio[.gz] [EXTRA_DIR]"
out=$1 extra=${2:-}
[ -z "$extra" ] || [ -d "$extra" ] || die "$extra: not a directory"
need_pkgs busybox-static cpio

# write_init FILE: the guest's /init.
write_init() {
	cat >"$1" <<'INIT'
#!/bin/sh
export PATH=/bin HOME=/root TERM=vt100
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The cpio has no /dev/console node, so init started without stdio: attach it.
exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /tmp
echo LKVM-GUEST-INIT-OK
t=
for w in $(cat /proc/cmdline); do
	case $w in lkvm_test=*) t=${w#lkvm_test=} ;; esac
done
# Tests run as children so that an `exit` in them cannot kill init (panic).
if [ -n "$t" ]; then
	if [ -f "/tests/$t.sh" ]; then
		sh "/tests/$t.sh"
		echo "LKVM-GUEST-TEST-STATUS=$?"
	else
		echo "LKVM-GUEST-NO-TEST $t"
	fi
elif [ -f /test.sh ]; then
	sh /test.sh
	echo "LKVM-GUEST-TEST-STATUS=$?"
else
	echo LKVM-GUEST-SHELL
	setsid cttyhack sh
fi
poweroff -f
INIT
	chmod 755 "$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
write_init "$tmp/init"
# Key: the init text, busybox, the extra files and the compression.
key=$( (hash_paths "$tmp/init" /bin/busybox; [ -z "$extra" ] || hash_paths "$extra"; echo "${out##*.}") |
	sha256sum | cut -c1-16)
case $out in *.gz) cached="$CACHE/guest-initramfs-$key.cpio.gz" ;; *) cached="$CACHE/guest-initramfs-$key.cpio" ;; esac
if [ ! -s "$cached" ]; then
	root="$tmp/root"
	busybox_root "$root"
	mv "$tmp/init" "$root/init"
	[ -z "$extra" ] || cp -a "$extra"/. "$root"/
	mk_cpio "$root" "$cached"
	log "built guest initramfs $cached ($(stat -c %s "$cached") bytes)"
fi
cp "$cached" "$out"
