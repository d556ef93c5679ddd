#!/bin/bash
# Boot the rig: qemu/TCG with nested SVM running Debian's cloud kernel, which
# loads kvm-amd so /dev/kvm works, then runs SCRIPT inside and powers off.
# Usage: rig.sh [options] SCRIPT [FILES...]
#   --timeout S        hard limit for the whole qemu run (default 300)
#   --stall S          stop the rig when its console is silent for S seconds
#                      (exit 126): SCRIPT must print something more often
#   --keep             keep the work directory (initramfs, log)
#   --quiet            do not stream the serial log, only print its path
#   --log FILE         serial log path (default a new $CACHE/logs/rig-*.log)
#   --guest-kernel F   put F at /guest/bzImage
#   --guest-initrd F   put F at /guest/initrd.gz
#   --cloud-guest      put the cloud kernel at /guest/vmlinuz-cloud too
# SCRIPT runs as /rig-test.sh; FILES (files or directories) go under /files/;
# $LKVM (default ./lkvm of the repo) goes to /lkvm when it exists.
# Env: RIG_QEMU_ARGS / RIG_APPEND add qemu options / rig kernel parameters;
# RIG_TCG_THREAD=single turns MTTCG off (multi boots ~25% faster).
# Exit status: SCRIPT's, parsed from the RIG-EXIT-STATUS=N line; 124 on
# timeout, 125 when the rig never reported a status (panic, crash).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

timeout=300 stall=0 keep='' quiet='' logf='' gkernel='' ginitrd='' cloud=''
usage() { sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--stall) stall=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--quiet) quiet=1; shift ;;
	--log) logf=$2; shift 2 ;;
	--guest-kernel) gkernel=$2; shift 2 ;;
	--guest-initrd) ginitrd=$2; shift 2 ;;
	--cloud-guest) cloud=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) log "unknown option $1"; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
script=$1; shift
[ -f "$script" ] || die "$script: no such script"
lkvm=${LKVM:-$repo/lkvm}
need_pkgs qemu-system-x86 busybox-static cpio

# write_init FILE: the rig's /init (runs under the cloud kernel).
write_init() {
	cat >"$1" <<'INIT'
#!/bin/sh
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# No /dev/console in the cpio: init started without stdio, attach it now.
exec 0</dev/null 1>/dev/console 2>&1
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
echo "RIG-INIT $(cut -d' ' -f1 /proc/uptime)s"
for m in $(cat /modules.load); do
	insmod "/modules/$m.ko" || echo "RIG-MODULE-FAILED $m"
done
for m in $(cat /modules.optional); do
	insmod "/modules/$m.ko" 2>/dev/null || echo "RIG-MODULE-OPTIONAL-FAILED $m"
done
if [ -c /dev/kvm ]; then echo RIG-KVM-OK; else echo RIG-KVM-MISSING; fi
cd /
sh /rig-test.sh
echo "RIG-EXIT-STATUS=$?"
poweroff -f
INIT
	chmod 755 "$1"
}

# base_cpio HOSTDIR: cached archive of busybox, /init and the kvm modules.
base_cpio() {
	local hk=$1 key out root
	write_init "$work/init"
	key=$( (hash_paths "$work/init" /bin/busybox "$hk/modules" "$hk/modules.load" \
		"$hk/modules.optional") | sha256sum | cut -c1-16)
	out="$CACHE/rig-base-$key.cpio"
	if [ ! -s "$out" ]; then
		root="$work/base"
		busybox_root "$root"
		cp "$work/init" "$root/init"
		cp -r "$hk/modules" "$root/modules"
		cp "$hk/modules.load" "$hk/modules.optional" "$root/"
		mk_cpio "$root" "$out"
	fi
	echo "$out"
}

# run_cpio HOSTDIR OUT: per-run archive (lkvm, guest files, script, FILES).
run_cpio() {
	local hk=$1 out=$2 root="$work/run" f
	shift 2
	mkdir -p "$root/guest" "$root/files"
	if [ -x "$lkvm" ]; then cp "$lkvm" "$root/lkvm"; else log "note: no $lkvm, rig runs without /lkvm"; fi
	[ -z "$gkernel" ] || cp "$gkernel" "$root/guest/bzImage"
	[ -z "$ginitrd" ] || cp "$ginitrd" "$root/guest/initrd.gz"
	[ -z "$cloud" ] || cp "$hk/vmlinuz" "$root/guest/vmlinuz-cloud"
	cp "$script" "$root/rig-test.sh"
	for f in "$@"; do cp -r "$f" "$root/files/"; done
	mk_cpio "$root" "$out"
}

# cpu_model: EPYC with SVM, falling back to max when this qemu lacks EPYC.
cpu_model() {
	if qemu-system-x86_64 -cpu help | grep -qw EPYC; then echo EPYC,+svm; else echo max,+svm; fi
}

work=$(mktemp -d /tmp/lkvm-rig.XXXXXX)
mkfifo "$work/mon.in" "$work/mon.out"
qpid= mpid=
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	[ -z "$mpid" ] || kill "$mpid" 2>/dev/null || true
	if [ -n "$keep" ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hk=$("$here/host-kernel.sh")
base=$(base_cpio "$hk")
run_cpio "$hk" "$work/run.cpio" "$@"
# The kernel unpacks concatenated newc archives one after the other.
cat "$base" "$work/run.cpio" >"$work/rig.cpio"
# Unique log names: several people may run the rig at once on one machine.
if [ -z "$logf" ]; then
	mkdir -p "$CACHE/logs"
	ls -t "$CACHE"/logs/rig-*.log 2>/dev/null | tail -n +30 | xargs -r rm -f
	logf="$CACHE/logs/rig-$(date +%Y%m%d-%H%M%S)-$$.log"
fi
mkdir -p "$(dirname "$logf")"
: >"$logf"

# One rig at a time per machine: two TCG qemus on 2 cores starve each other
# (soft lockups, spurious timeouts). The wait does not count in --timeout.
exec 9>"$CACHE/rig.lock"
if ! flock -n 9; then
	log "another rig run is active, waiting for it (up to 1 h)"
	flock -w 3600 9 || die "gave up waiting for $CACHE/rig.lock"
fi

# monitor_dump: where the rig's vCPUs are and what interrupts wait, for a
# wedged rig; saved beside the serial log as LOG.monitor.
monitor_dump() {
	printf '%s\n' 'info registers -a' 'info lapic' 'info pic' 'x/16i $pc' \
		>"$work/mon.in"
	sleep 2
	tr -d '\r' <"$work/mon.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >"$logf.monitor"
}

# Serial goes to a file: robust with no stdin/tty (CI), and nothing to parse
# out of qemu's own chatter. -nodefaults drops the NIC/VGA we do not need.
# loglevel=3 keeps kvm's rate-limited "Unhandled WRMSR" errors off the
# console (the driver prints new dmesg lines when a case fails).
# QEMU 7.2's TCG sometimes loses an interrupt: the rig's APIC keeps the timer
# vector pending while the CPU halts, or runs a nested guest, for good (the
# rig "wedges"; seen about once in 15 runs of the tiny-guest tests). Linux
# programs its timer one-shot, re-armed by the very interrupt that was lost;
# a periodic LAPIC timer (no TSC deadline, no NOHZ, no high-res timers)
# raises it again on the next tick. In 20 runs with it: no wedge.
start=$(date +%s.%N)
timeout -k 5 "$timeout" qemu-system-x86_64 \
	-accel tcg,thread=${RIG_TCG_THREAD:-multi} -cpu "$(cpu_model)" -m 2048 -smp "${RIG_SMP:-1}" \
	-nodefaults -no-user-config -display none -monitor "pipe:$work/mon" -no-reboot \
	-serial "file:$logf" \
	-kernel "$hk/vmlinuz" -initrd "$work/rig.cpio" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 lapic=notscdeadline nohz=off highres=off ${RIG_APPEND:-}" \
	${RIG_QEMU_ARGS:-} </dev/null >"$work/qemu.out" 2>&1 &
qpid=$!
cat "$work/mon.out" >"$work/mon.log" &
mpid=$!
# The watchdog (with --stall), should an interrupt still be lost: any new
# interrupt brings it back, so after 40 silent seconds (the driver's
# heartbeat comes every 30) a key press on the rig's i8042 kicks the rig
# (seen to work); still silent after S seconds, the rig is stopped.
if [ "$stall" -gt 0 ]; then
	(kicked=0
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 5
		quiet_for=$(($(date +%s) - $(stat -c %Y "$logf")))
		if [ "$quiet_for" -gt "$stall" ]; then
			: >"$work/stalled"
			monitor_dump
			kill "$qpid"
			break
		elif [ "$quiet_for" -gt 40 ] && [ $(($(date +%s) - kicked)) -ge 20 ]; then
			kicked=$(date +%s)
			echo "$quiet_for" >>"$work/kicks"
			printf 'sendkey shift\n' >"$work/mon.in"
		fi
	done) &
fi
if [ -z "$quiet" ]; then
	tail -s 0.2 -n +1 -f --pid="$qpid" "$logf" | tr -d '\r' || true
fi
qrc=0
wait "$qpid" || qrc=$?
qpid=
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
# TCG lists every EPYC feature it cannot emulate: noise, not errors.
grep -v "TCG doesn't support requested feature" "$work/qemu.out" | sed 's/^/qemu: /' >&2 || true
log "serial log: $logf"
status=$(tr -d '\r' <"$logf" | sed -n 's/^RIG-EXIT-STATUS=\([0-9]\+\)$/\1/p' | tail -n1)
# Quiet runs still show how a dead rig ended.
if [ -z "$status" ] && [ -n "$quiet" ]; then tail -n 30 "$logf" | tr -d '\r' >&2; fi
[ ! -s "$work/kicks" ] ||
	log "the rig went silent $(wc -l <"$work/kicks") times (TCG lost an interrupt); a key press woke it"
if [ -e "$work/stalled" ]; then
	log "STALLED: no console output for ${stall}s; stopped the rig after ${secs}s"
	log "rig CPU state at the stall: $logf.monitor"
	exit 126
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	log "TIMEOUT: rig did not finish within ${timeout}s"
	exit 124
elif [ -z "$status" ]; then
	log "FAILED: rig exited ($qrc) without RIG-EXIT-STATUS (kernel panic? qemu error?) after ${secs}s"
	exit 125
fi
log "rig finished in ${secs}s, status $status"
exit "$status"
