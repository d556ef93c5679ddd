#!/bin/bash
# Boot benchmark: lkvm against kvmtool (and QEMU -M microvm when its bundle
# works) in ONE rig boot (tests/rig/rig.sh), interleaved run by run.
# Usage: tests/bench/boot.sh [-n RUNS] [--no-kvmtool] [--no-qemu] [--verbose] [--log FILE]
#        tests/bench/boot.sh --report LOG
#   -n RUNS        measured runs per configuration (default 20), after one
#                  warm-up run that also validates the configuration
#   --no-kvmtool   leave kvmtool out (otherwise built once and cached)
#   --no-qemu      leave QEMU out (otherwise the host's qemu-system-x86_64 and
#                  its shared libraries are copied into the rig)
#   --verbose      show the warm-up output of every configuration in the log
#   --log FILE     the rig's serial log (default $CACHE/logs/bench-boot-*.log)
#   --report LOG   only print the table of an earlier run's serial log
# Env: LKVM (default ./lkvm), KVMTOOL_TARBALL (default
# ../shared/peers/kvmtool-b48735e.tar.gz), LKVM_CACHE, BENCH_RIG_SMP (rig
# vCPUs, default 1: see README), BENCH_STALL (default 240 s), RIG_* of rig.sh.
# Prints a table: VMM, metric, median, min, max, runs. See tests/bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/rig/lib.sh"
. "$here/lib.sh"

# The table, from the BENCH-ROW lines of the serial log.
metric() {
	case $1 in
	baseline:exec-true) echo "fork+exec+exit of busybox true (floor)" ;;
	lkvm:hello) echo "hello.bzImage 64-bit entry: exec->exit" ;;
	lkvm:hello-legacy) echo "hello.bzImage 16-bit entry, own BIOS: exec->exit" ;;
	kvmtool:hello-legacy) echo "hello.bzImage 16-bit entry, own BIOS: exec->exit (*)" ;;
	qemu:hello-legacy) echo "hello.bzImage 16-bit entry, qboot: exec->exit" ;;
	lkvm:linux-port) echo "Linux to /init, exit by port 0xf4" ;;
	lkvm:sandbox-true) echo "lkvm sandbox -- true (embedded init, / over 9p): exec->exit" ;;
	lkvm:linux-reboot) echo "Linux to /init, exit by reboot -f" ;;
	lkvm:linux-poweroff) echo "Linux to /init, exit by poweroff -f (ACPI)" ;;
	lkvm:linux-reboot-kvmtoolcmdline) echo "Linux to /init, reboot -f, kvmtool's cmdline (**)" ;;
	kvmtool:linux-reboot-kvmtoolcmdline) echo "Linux to /init, reboot -f, kvmtool's cmdline (**)" ;;
	qemu:linux-port) echo "Linux to /init, exit by isa-debug-exit 0xf4" ;;
	*) echo "$1" ;;
	esac
}
# report LOG: the table, notes and commands from a rig serial log.
report() {
	clean=$(tr -d '\r' <"$1")
	bench_report_head "$clean" "lkvm boot benchmark" "$1"
	printf '%-8s %-58s %9s %9s %9s %6s\n' VMM metric median min max runs
	printf '%s\n' "$clean" | sed -n 's/^BENCH-ROW //p' | while read -r label rest; do
		vmm=${label%%:*}
		[ "$vmm" = baseline ] && vmm=-
		m=$(metric "$label")
		declare -A f=()
		for kv in $rest; do f[${kv%%=*}]=${kv#*=}; done
		if [ "${f[ok]:-0}" = 0 ]; then
			printf '%-8s %-58s %9s %9s %9s %6s\n' "$vmm" "$m" - - - "0/${f[runs]:-0}"
			continue
		fi
		printf '%-8s %-58s %9s %9s %9s %6s\n' "$vmm" "$m (ms)" "${f[ms_med]}" "${f[ms_min]}" "${f[ms_max]}" "${f[ok]}/${f[runs]}"
		printf '%-8s %-58s %9s %9s %9s %6s\n' "$vmm" "  peak RSS, ru_maxrss (MiB)" \
			"$(awk -v k="${f[rss_med]}" 'BEGIN { printf "%.1f", k / 1024 }')" \
			"$(awk -v k="${f[rss_min]}" 'BEGIN { printf "%.1f", k / 1024 }')" \
			"$(awk -v k="${f[rss_max]}" 'BEGIN { printf "%.1f", k / 1024 }')" "${f[ok]}/${f[runs]}"
		[ -z "${f[val_med]:-}" ] ||
			printf '%-8s %-58s %9s %9s %9s %6s\n' "$vmm" "  guest clock at /init (ms, in-guest)" \
				"${f[val_med]}" "${f[val_min]}" "${f[val_max]}" "${f[ok]}/${f[runs]}"
	done
	echo "(*) kvmtool has no exit port: it runs with --debug-ioport, which ends it at the"
	echo "    guest's write to the unhandled port 0xf4 (and dumps registers)."
	echo "(**) kvmtool's default command line (noapic noacpi pci=conf1 reboot=k panic=1"
	echo "    i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 earlyprintk=serial i8042.noaux=1"
	echo "    console=ttyS0 root=/dev/vda rw) plus 'quiet'; the other Linux rows boot"
	echo "    'console=ttyS0 panic=-1 quiet' (lkvm's default plus 'quiet')."
	echo "Linux rows: wall time from fork to VMM exit; 'guest clock' is the guest's"
	echo "CLOCK_MONOTONIC when /init ran (kernel timekeeping start to /init)."
	echo "Guest memory: 64 MiB (hello), 128 MiB (Linux); 1 vCPU everywhere."
	bench_report_tail "$clean"
}

runs=20 use_kvmtool=1 use_qemu=1 verbose=0 logf=''
usage() { sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	-n) runs=$2; shift 2 ;;
	--no-kvmtool) use_kvmtool=0; shift ;;
	--no-qemu) use_qemu=0; shift ;;
	-v|--verbose) verbose=1; shift ;;
	--log) logf=$2; shift 2 ;;
	--report) report "$2"; exit 0 ;;
	-h|--help) usage ;;
	*) log "unknown argument $1"; usage ;;
	esac
done
case $runs in '' | *[!0-9]* | 0) die "-n needs a positive number" ;; esac
bench_start=$(date +%s)
lkvm=${LKVM:-$repo/lkvm}
hello=$repo/guest/hello.bzImage
[ -x "$lkvm" ] || die "$lkvm missing: run make first"
[ -f "$hello" ] || die "$hello missing: run make guests first"
need_pkgs gcc libc6-dev cpio

work=$(mktemp -d /tmp/lkvm-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
b=$work/bench
mkdir -p "$b" "$work/initroot/dev"

# The timing helper and the benchmark's /init, both static.
gcc -static -O2 -Wall -o "$b/runtime" "$here/runtime.c"
gcc -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie -O2 -Wall \
	-o "$work/initroot/init" "$here/init.c"
strip "$work/initroot/init"
mk_cpio "$work/initroot" "$b/initrd.gz"
# kvmtool reads a whole struct boot_params (4 KiB) before it looks for
# "HdrS" and takes shorter files for flat binaries: pad the 4080-byte image.
cp "$hello" "$b/hello.bzImage"
[ "$(stat -c %s "$b/hello.bzImage")" -ge 4096 ] || truncate -s 4096 "$b/hello.bzImage"
bench_guest_kernel "$b/bzImage"

have_kvmtool=0
if [ "$use_kvmtool" = 1 ] && bench_kvmtool "$b"; then have_kvmtool=1; fi

# QEMU: the rig has no qemu of its own; copy the host's dynamically linked
# binary with every library ldd names, its loader and the microvm firmware,
# and start it through the loader (--library-path), no install needed.
have_qemu=0
if [ "$use_qemu" = 1 ]; then
	qbin=$(command -v qemu-system-x86_64 || true)
	q=$b/qemu
	if [ -n "$qbin" ] && mkdir -p "$q/lib" "$q/share" && cp "$qbin" "$q/" &&
		ldd "$qbin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | xargs -r cp -L -t "$q/lib" &&
		loader=$(ldd "$qbin" | awk '$1 ~ /^\/.*ld-linux/ { print $1 }') && [ -n "$loader" ] &&
		cp -L "$loader" "$q/ld-linux-x86-64.so.2"; then
		for f in bios-microvm.bin linuxboot_dma.bin; do
			[ -f "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$q/share/"
		done
		if [ -f "$q/share/bios-microvm.bin" ]; then
			have_qemu=1
		else
			log "no /usr/share/qemu/bios-microvm.bin: measuring without QEMU"
		fi
	else
		log "could not bundle qemu-system-x86_64: measuring without QEMU"
	fi
	[ "$have_qemu" = 1 ] || rm -rf "$q"
fi

cat >"$b/config" <<EOF
RUNS=$runs
HAVE_KVMTOOL=$have_kvmtool
HAVE_QEMU=$have_qemu
VERBOSE=$verbose
EOF

[ -n "$logf" ] || logf=$(bench_log boot)
# A round (6 Linux boots, 5 tiny ones) takes about 15 s in the rig; the cap
# leaves room for a slow host, not for a wedged rig (others wait for it).
timeout=$((300 + runs * 45))
log "rig: $runs runs per configuration (kvmtool: $have_kvmtool, qemu: $have_qemu), log $logf"
rc=0
bench_rig "$logf" "$timeout" "$here/boot-inner.sh" "$b" || rc=$?
report "$logf"
echo "bench took $(($(date +%s) - bench_start)) s (rig status $rc), serial log $logf"
exit "$rc"
