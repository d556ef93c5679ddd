#!/bin/sh
# KVM tests with the tiny guests from guest/, on whatever /dev/kvm exists,
# plus lkvm's handling of bad input (which needs no KVM at all).
# Usage: tests/kvm/run.sh [LKVM] [GUEST_DIR]      (POSIX sh: also runs in the rig)
# Ends with "kvm: N passed, N failed[, N skipped]"; exit 1 on any failure.
LKVM=${1:-./lkvm}
G=${2:-guest}
T=${TMPDIR:-/tmp}/lkvm-kvm-tests.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 skip=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1: $2"; sed 's/^/    | /' "$T/out" | tail -20; }

# run NAME EXPECTED_STATUS EXPECTED_TEXT -- LKVM-RUN-ARGS: lkvm run with a timeout.
run() {
	name=$1 want=$2 text=$3
	shift 4
	timeout 60 "$LKVM" run "$@" </dev/null >"$T/out" 2>&1
	rc=$?
	if [ "$rc" != "$want" ]; then
		ko "$name" "exit status $rc, expected $want"
	elif [ -n "$text" ] && ! grep -q -- "$text" "$T/out"; then
		ko "$name" "output lacks '$text'"
	else
		ok "$name"
	fi
}

# bad NAME TEXT -- ARGS: lkvm must fail with one line naming the problem, never crash.
bad() {
	name=$1 text=$2
	shift 3
	timeout 20 "$LKVM" "$@" </dev/null >"$T/out" 2>&1
	rc=$?
	lines=$(wc -l <"$T/out")
	if [ "$rc" = 0 ] || [ "$rc" -ge 124 ]; then
		ko "$name" "exit status $rc, expected a clean failure"
	elif [ "$lines" != 1 ] || ! grep -q -- "$text" "$T/out"; then
		ko "$name" "expected one line with '$text'"
	else
		ok "$name"
	fi
}

# --- bad input: no KVM needed, the checks come before /dev/kvm is opened ---
head -c 3000 "$G/hello.bzImage" >"$T/truncated"
head -c 600000 /dev/urandom >"$T/garbage"
: >"$T/empty"
head -c $((20 * 1024 * 1024)) /dev/zero >"$T/big.initrd"
bad missing-kernel "cannot open kernel" -- run -k "$T/nonexistent"
bad empty-kernel "not a bzImage" -- run -k "$T/empty"
bad garbage-kernel "not a bzImage" -- run -k "$T/garbage"
bad truncated-kernel "truncated" -- run -k "$T/truncated"
bad directory-kernel "not a regular file" -- run -k "$T"
bad missing-initrd "cannot open initrd" -- run -k "$G/hello.bzImage" -i "$T/nonexistent"
bad initrd-larger-than-ram "larger than guest memory" -- run -k "$G/hello.bzImage" -m 16 -i "$T/big.initrd"
bad unknown-option "unknown option" -- run --frobnicate
bad bad-mem "--mem" -- run -m lots
bad zero-cpus "--cpus" -- run -c 0
bad bad-boot-mode "boot mode" -- run --boot=uefi
bad bad-console "console" -- run --console=vga
bad bad-name "invalid guest name" -- run -k "$G/hello.bzImage" --name ../x
bad unknown-command "not an lkvm command" -- frobnicate
head -c 100 /dev/zero >"$T/tiny.img"
head -c 1000 /dev/zero >"$T/odd.img"
bad missing-disk "disk" -- run -k "$G/hello.bzImage" -d "$T/nonexistent.img"
bad directory-disk "directory" -- run -k "$G/hello.bzImage" -d "$T"
bad tiny-disk "512" -- run -k "$G/hello.bzImage" -d "$T/tiny.img"
bad odd-size-disk "multiple of 512" -- run -k "$G/hello.bzImage" -d "$T/odd.img"
bad bad-disk-flag "" -- run -k "$G/hello.bzImage" -d "$T/odd.img,frob"
bad bad-network "" -- run -k "$G/hello.bzImage" -n mode=carrier-pigeon
bad missing-9p-dir "" -- run -k "$G/hello.bzImage" --9p "$T/nonexistent,tag"
bad stop-nobody "no running guest" -- stop --name no-such-guest-$$

# --- tiny guests: need a /dev/kvm that works ---
if ! [ -c /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "skip tiny guests: no usable /dev/kvm here (they run in the rig: tests/rig)"
	skip=$((skip + 1))
else
	printf 'lkvm initrd test data\n' >"$T/small.initrd"
	run hello-64bit 0 "hello from lkvm guest" -- -k "$G/hello.bzImage"
	run hello-legacy 66 "real mode entry" -- -k "$G/hello.bzImage" --boot=legacy
	run legacy-e820 66 "e820: 3 entries" -- -k "$G/hello.bzImage" --boot=legacy
	run exit-port-status 7 "cmdline:" -- -k "$G/exit-code.bzImage" -p "exit=7"
	run nodefaults-cmdline 9 "cmdline: exit=9" -- -k "$G/exit-code.bzImage" --nodefaults -p "exit=9"
	run zeropage 0 "initrd: at" -- -k "$G/zeropage.bzImage" -i "$T/small.initrd" \
		-p "initrd_size=$(wc -c <"$T/small.initrd")"
	run zeropage-no-initrd 0 "" -- -k "$G/zeropage.bzImage"
	run zeropage-big-guest 0 "" -- -k "$G/zeropage.bzImage" -m 4096
	run smp-2 2 "smp: 2 of 2" -- -k "$G/smp.bzImage" -c 2
	run smp-4 4 "smp: 4 of 4" -- -k "$G/smp.bzImage" -c 4
	run debug-boot-time 0 "guest ran for" -- -k "$G/hello.bzImage" --debug-boot-time
fi

echo "kvm: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
