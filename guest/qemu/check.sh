#!/bin/bash
# Cross-check the BIOS and the test guests under QEMU TCG (no KVM needed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
guest=$(dirname "$here")
run=$here/run.sh
fails=0

# expect NAME STATUS PATTERN -- run.sh args...
expect() {
	local name=$1 want=$2 pattern=$3 out rc
	shift 4
	out=$("$run" "$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pattern" <<<"$out"; then
		echo "ok   $name"
	else
		echo "FAIL $name (status $rc, want $want; looked for '$pattern')"
		sed 's/^/     | /' <<<"$out"
		fails=$((fails + 1))
	fi
}

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "guest/qemu/check.sh: no qemu-system-x86_64, skipped"
	exit 0
fi
initrd=$(mktemp "${TMPDIR:-/tmp}/lkvm-initrd.XXXXXX")
trap 'rm -f "$initrd"' EXIT
head -c 3000 /dev/urandom >"$initrd"
crc=0x$(gzip -c "$initrd" | tail -c8 | od -An -tx4 -N4 | tr -d ' ')

expect hello-legacy 66 "e820: 3 entries" -- legacy "$guest/hello.bzImage"
expect hello-64 0 "hello from lkvm guest" -- 64 "$guest/hello.bzImage"
expect exit-code-64 7 "cmdline: console=ttyS0 exit=7" -- 64 "$guest/exit-code.bzImage" \
	-p "console=ttyS0 exit=7"
expect exit-code-legacy 66 "real mode entry" -- legacy "$guest/exit-code.bzImage" -p "exit=7"
expect zeropage-64 0 "zeropage: ok" -- 64 "$guest/zeropage.bzImage" -p "quiet"
expect zeropage-initrd 0 "crc32 ${crc#0x}" -- 64 "$guest/zeropage.bzImage" -i "$initrd" \
	-p "initrd_size=3000 initrd_crc32=$crc"
expect zeropage-bad-crc 1 "FAIL initrd_crc32" -- 64 "$guest/zeropage.bzImage" -i "$initrd" \
	-p "initrd_crc32=0x1"
expect smp-2 2 "2 of 2 cpus up" -- 64 "$guest/smp.bzImage" -- -smp 2
# No virtio-mmio devices under QEMU: it must say so and stop, not wait.
expect virtq-hostile-no-devices 4 "no rng device" -- 64 "$guest/virtq-hostile.bzImage" \
	-m 256 -p "vqh.devices=rng"
[ $fails -eq 0 ] && echo "guest/qemu/check.sh: all passed" || echo "guest/qemu/check.sh: $fails failed"
[ $fails -eq 0 ]
