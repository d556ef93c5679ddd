#!/bin/bash
# Run a test guest (or any bzImage) under QEMU TCG the way lkvm would start
# it, with lkvm's BIOS and memory layout: see guest/qemu/mkimg.c.
#
# usage: guest/qemu/run.sh legacy|64 BZIMAGE [-i INITRD] [-m MIB] [-p CMDLINE] [-- QEMU ARGS]
# Prints the guest's serial output; exits with the status the guest wrote
# to PORT_EXIT (0xf4), or 124 on timeout (GUEST_QEMU_TIMEOUT, default 60 s).
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=$1 image=$2
shift 2
initrd=- mib=128 cmdline=
while [ $# -gt 0 ]; do
	case $1 in
	-i) initrd=$2; shift 2 ;;
	-m) mib=$2; shift 2 ;;
	-p) cmdline=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
out=$(mktemp -d "${TMPDIR:-/tmp}/lkvm-guest-qemu.XXXXXX")
trap 'rm -rf "$out"' EXIT
args=$("$here/mkimg" "$mode" "$image" "$mib" "$cmdline" "$initrd" "$here/stub.bin" "$out") || exit 2
# shellcheck disable=SC2086
timeout "${GUEST_QEMU_TIMEOUT:-60}" qemu-system-x86_64 -M pc -m "$mib" -accel tcg $args \
	-display none -monitor none -serial "file:$out/serial" -no-reboot \
	-device isa-debug-exit,iobase=0xf4 "$@"
rc=$?
cat "$out/serial"
# isa-debug-exit makes QEMU exit with (status << 1) | 1.
if [ $rc -eq 124 ] || [ $((rc & 1)) -eq 0 ]; then
	echo "run.sh: QEMU exited with $rc without a guest status" >&2
	exit 124
fi
exit $(((rc - 1) / 2))
