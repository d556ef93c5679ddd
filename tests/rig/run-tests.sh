#!/bin/bash
# Run the rig test cases (tests/rig/tests/*.sh) in one rig boot.
# Usage: run-tests.sh [--keep] [--no-cloud] [--verbose] [--repeat N] [NAME...]
#   NAME selects cases: "10-boot-marker", "10" or "boot-marker".
#   --no-cloud leaves the stock cloud kernel out (its case then skips).
#   --verbose shows commands and lkvm output of passing cases too.
#   --repeat N runs the selected cases N times over in the one rig (flakes).
# Env: LKVM (default ./lkvm), RIG_LOG (default a new $CACHE/logs/rig-tests-*.log).
# Ends with 'rig: N passed, N failed' and a non-zero status on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

rigopts=() cloud=--cloud-guest repeat=1
while [ $# -gt 0 ]; do
	case $1 in
	--keep) rigopts+=(--keep); shift ;;
	--no-cloud) cloud=; shift ;;
	-v|--verbose) export RIG_APPEND="${RIG_APPEND:-} RIG_VERBOSE=1"; shift ;;
	--repeat) export RIG_APPEND="${RIG_APPEND:-} RIG_REPEAT=$2"; repeat=$2; shift 2 ;;
	-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
export LKVM=${LKVM:-$repo/lkvm}
[ -x "$LKVM" ] || { log "error: $LKVM missing: run make first"; echo "rig: 0 passed, 1 failed"; exit 1; }

# selected FILE NAME...: is case FILE picked by the NAME arguments?
selected() {
	local f=$1 n a
	shift
	n=$(basename "$f" .sh)
	[ $# -eq 0 ] && return 0
	for a in "$@"; do
		[ "$a" = "$n" ] || [ "$a" = "${n%%-*}" ] || [ "$a" = "${n#*-}" ] && return 0
	done
	return 1
}

tmp=$(mktemp -d /tmp/lkvm-rig-tests.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tests" "$tmp/guest-extra/tests"
total_timeout=120 ncases=0
for f in "$here"/tests/*.sh; do
	selected "$f" "$@" || continue
	cp "$f" "$tmp/tests/"
	t=$(sed -n 's/^# rig-timeout: *\([0-9]\+\).*/\1/p' "$f" | head -n 1)
	total_timeout=$((total_timeout + (${t:-60} + 5) * repeat))
	ncases=$((ncases + 1))
done
[ $ncases -gt 0 ] || die "no case matches: $*"

# One guest-kernel build at a time: guest-kernel.sh wipes its build dir.
gk=$(flock "$CACHE/guest-kernel.lock" "$here/guest-kernel.sh")
cp "$here"/guest/*.sh "$tmp/guest-extra/tests/"
# The stock kernel's virtio drivers are modules: the guest loads them itself.
[ -z "$cloud" ] || "$here/cloud-modules.sh" "$tmp/guest-extra/cloudmods"
# Case 69: distro module trees (and Debian's generic kernel) in /files/modtree.
mkdir -p "$tmp/modtree"
if [ -n "$cloud" ] && [ -e "$tmp/tests/69-distro-modules.sh" ]; then
	"$here/cloud-modtree.sh" "$tmp/modtree" || log "cannot build the module trees; case 69 will skip"
fi
# nettool (UDP echo, raw frames, timed transfers) for the network cases: in
# the guest's /bin and, below, in the rig's /files/tools.
mkdir -p "$tmp/guest-extra/bin" "$tmp/tools"
gcc -static -O2 -s -o "$tmp/guest-extra/bin/nettool" "$here/../tools/nettool.c" &&
	cp "$tmp/guest-extra/bin/nettool" "$tmp/tools/" ||
	log "cannot build tests/tools/nettool.c; the network cases will fail"
"$here/guest-initramfs.sh" "$tmp/initrd.gz" "$tmp/guest-extra"
cp "$here/case-lib.sh" "$tmp/case-lib.sh"
# The tiny-guest KVM tests run inside the rig too (this host may lack KVM).
mkdir -p "$tmp/kvm"
cp "$here/../kvm/run.sh" "$tmp/kvm/"
cp "$here"/../../guest/*.bzImage "$tmp/kvm/" 2>/dev/null || true
# Disk images for the virtio-blk cases: the guest initramfs as an ext4 root.
need_pkgs e2fsprogs cpio
mkdir -p "$tmp/disks" "$tmp/rootfs"
(cd "$tmp/rootfs" && gzip -dc "$tmp/initrd.gz" | cpio -id --quiet)
mke2fs -q -F -t ext4 -L lkvmroot -d "$tmp/rootfs" "$tmp/disks/rootfs.ext4" 24M
rm -rf "$tmp/rootfs"
# Host-built static helpers the cases use (a pty driver for raw-mode tests).
mkdir -p "$tmp/tools"
gcc -static -O2 -o "$tmp/tools/ptyrun" "$here/../tools/ptyrun.c" -lutil ||
	log "cannot build tests/tools/ptyrun.c; the TTY case will skip"

mkdir -p "$CACHE/logs"
logf=${RIG_LOG:-$CACHE/logs/rig-tests-$(date +%Y%m%d-%H%M%S)-$$.log}
# rig LOG: one rig boot running the cases; the driver's heartbeat comes every 30 s.
rig() {
	"$here/rig.sh" "${rigopts[@]}" --timeout "$total_timeout" --stall 150 --log "$1" \
		--guest-kernel "$gk" --guest-initrd "$tmp/initrd.gz" ${cloud} \
		"$here/driver.sh" "$tmp/case-lib.sh" "$tmp/tests" "$tmp/kvm" "$tmp/tools" "$tmp/disks" \
		"$tmp/modtree"
}
# The nested TCG rig sometimes wedges for good: the rig kernel stops, its
# heartbeat too, and rig.sh --stall ends it (status 126, CPU state saved
# beside the log). That is the rig, not a case failing: a new rig boot goes
# on from the case that was running, which runs again. A case that wedges
# two rigs in a row fails; after 4 wedges the rest count as failed.
# results LOG: the "PASS|FAIL|SKIP NAME" lines of one rig boot.
results() { tr -d '\r' <"$1" | grep -E '^(PASS|FAIL|SKIP) ' || true; }
count() { results "$1" | grep -c "^$2 " || true; }
p=0 f=0 s=0 seg=0 wedges=0 last='' rc=0
while :; do
	seglog=$logf
	[ $seg = 0 ] || seglog=${logf%.log}-$seg.log
	rc=0
	rig "$seglog" || rc=$?
	p=$((p + $(count "$seglog" PASS))) f=$((f + $(count "$seglog" FAIL)))
	s=$((s + $(count "$seglog" SKIP)))
	for n in $(results "$seglog" | cut -d' ' -f2); do rm -f "$tmp/tests/$n.sh"; done
	[ "$rc" = 126 ] || break
	wedged=$(tr -d '\r' <"$seglog" | sed -n 's/^==== \([^ ]*\) (timeout.*/\1/p' | tail -n 1)
	wedges=$((wedges + 1))
	if [ -n "$wedged" ] && [ "$wedged" = "$last" ]; then
		echo "FAIL $wedged (the rig wedged in it twice in a row)"
		rm -f "$tmp/tests/$wedged.sh"
		f=$((f + 1))
	fi
	last=$wedged
	[ -n "$(ls "$tmp/tests")" ] && [ $wedges -lt 4 ] || break
	log "the rig wedged in ${wedged:-its boot} (see $seglog); a new rig goes on from there"
	seg=$((seg + 1))
done
# Cases that never finished (a dead or wedged last rig) count as failed.
left=$(ls "$tmp/tests" | wc -l)
if ! tr -d '\r' <"$seglog" | grep -qE '^rig: [0-9]+ passed, [0-9]+ failed'; then
	log "rig did not finish (status $rc): $left unfinished cases count as failed"
	f=$((f + left))
fi
[ $wedges = 0 ] || log "the rig wedged $wedges times; results of $((seg + 1)) rig boots"
if [ $s -gt 0 ]; then
	echo "rig: $p passed, $f failed, $s skipped"
else
	echo "rig: $p passed, $f failed"
fi
[ $f = 0 ] || [ "$rc" != 0 ] || rc=1
[ $f != 0 ] || [ "$rc" != 126 ] || rc=0
exit "$rc"
