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

# hostile NAME TARGETS DEVICES STDIN -- LKVM-RUN-ARGS: guest/virtq-hostile feeds
# malformed queues to the virtio-mmio devices. lkvm must survive with the
# guest's status 0 (every case detected or harmless, every device working
# after its reset), the guest must have attacked every one of TARGETS, and
# lkvm's stderr must hold nothing but "device needs reset" warnings: each
# core check (and DEVICES' own ones) for every device, and exactly one per
# NEEDS_RESET the guest saw.
hostile() {
	name=$1 targets=$2 devices=$3 input=$4
	shift 5
	timeout 90 "$LKVM" run -k "$G/virtq-hostile.bzImage" --transport mmio "$@" \
		<"$input" >"$T/out" 2>"$T/err"
	rc=$?
	why=$(hostile_check "$targets" "$devices" "$rc")
	if [ -z "$why" ]; then
		ok "$name"
		return
	fi
	grep -E "UNEXPECTED|NOT RECOVERED|FAIL" "$T/out" | head -20 >>"$T/err"
	cp "$T/err" "$T/out"
	ko "$name" "$why"
}

# hostile_check TARGETS DEVICES RC: prints what is wrong, nothing if all is well.
hostile_check() {
	[ "$3" = 0 ] || { echo "exit status $3 (124: lkvm hung; 1-7: the guest's verdict)"; return; }
	grep -q "^virtq-hostile: PASS" "$T/out" || { echo "no PASS from the guest"; return; }
	for t in $1; do
		grep -q "^virtq-hostile: $t [a-z]" "$T/out" || { echo "no cases ran on $t"; return; }
	done
	for d in $2; do
		for w in "a descriptor points outside guest memory" \
			 "a descriptor chain loops or is longer than the queue" \
			 "a descriptor chain is malformed" "a descriptor chain is larger than 4 GiB" \
			 "the available ring index jumped past the queue size" \
			 "queue rings are outside guest memory or misaligned" \
			 "queue size is not a power of two within the maximum"; do
			grep -q "^lkvm: warning: virtio-$d: $w; device needs reset" "$T/err" ||
				{ echo "lkvm did not report '$w' for $d"; return; }
		done
	done
	case " $2 " in *" blk "*)
		grep -q "virtio-blk: a block request has no status byte" "$T/err" ||
			{ echo "lkvm did not report the block request without a status"; return; } ;;
	esac
	case " $2 " in *" net "*)
		grep -q "virtio-net: a receive buffer has no room for the virtio-net header" \
			"$T/err" || { echo "lkvm did not report the tiny receive buffer"; return; } ;;
	esac
	other=$(grep -v "^lkvm: warning: virtio-[a-z0-9]*: .*; device needs reset$" "$T/err" | head -3)
	[ -z "$other" ] || { echo "unexpected lkvm output: $other"; return; }
	seen=$(grep -c "needs reset" "$T/out")
	said=$(grep -c "device needs reset$" "$T/err")
	[ "$seen" = "$said" ] || echo "the guest saw NEEDS_RESET $seen times, lkvm reported $said"
}

hostile_tests() {
	mkdir -p "$T/share"
	echo "9p share of the hostile-queue test" >"$T/share/file"
	head -c 1048576 /dev/zero >"$T/rw.img"
	printf 'lkvm-hostile-disk' | dd of="$T/rw.img" conv=notrunc 2>/dev/null
	cp "$T/rw.img" "$T/ro.img"
	before=$(cat "$T/rw.img" "$T/ro.img" | md5sum)
	hostile hostile-queues "rng blk blk-ro net-tx net-rx 9p" "rng blk net 9p" /dev/null -- \
		-m 256 -d "$T/rw.img" -d "$T/ro.img,ro" --9p "$T/share,hostile" \
		-p "vqh.devices=rng,blk,net,9p"
	if [ -n "$before" ] && [ "$(cat "$T/rw.img" "$T/ro.img" | md5sum)" = "$before" ]; then
		ok hostile-queues-disks-unchanged
	else
		: >"$T/out"
		ko hostile-queues-disks-unchanged "garbage requests changed a disk image"
	fi
	# virtio-console: lkvm drops serial output, the guest sends its log through
	# hvc0 at the end; receive cases need input waiting on stdin.
	head -c 65536 /dev/zero | tr '\0' x >"$T/console.in"
	hostile hostile-queues-console "console-tx console-rx" "console" "$T/console.in" -- \
		-m 256 --console virtio -p "vqh.devices=console"
	# 4 GiB: RAM ends at 3 GiB below the MMIO hole and goes on at 4 GiB.
	hostile hostile-queues-4g "rng" "rng" /dev/null -- -m 4096 -p "vqh.devices=rng"
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
	hostile_tests
fi

echo "kvm: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
