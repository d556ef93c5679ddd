#!/bin/sh
# virtio-blk benchmark, the part that runs INSIDE the rig (busybox sh) as
# /rig-test.sh; tests/bench/io.sh blk puts everything under /files/bench/:
#   config        sourced: RUNS, SECS, TESTS, IMG_MIB, HAVE_KVMTOOL
#   inner-lib.sh  the round loop and statistics (shared with the others)
#   blkbench      tests/tools/blkbench.c, static (the same binary is the
#                 guest's /bin/blkbench)
#   brd.ko        the rig kernel's RAM disk driver: the image's home
#   bzImage       the minimal guest kernel (tests/rig/guest-kernel.sh)
#   initrd.gz     guest initramfs; lkvm_test=bench-blk runs blkbench on
#                 /dev/vda (tests/bench/guest-blk.sh), then reboot -f
#   lkvm-static   kvmtool, when it built
# The image is a file on an ext2 filesystem (busybox mke2fs, mounted by the
# ext4 driver) on a brd RAM disk: the rig has no disk, and tmpfs in its 6.1
# kernel refuses O_DIRECT. Every configuration runs every test of TESTS for
# SECS seconds on that same file, from the host side (blkbench with O_DIRECT:
# the limit) or from a guest's /dev/vda.
# Samples: "LABEL TEST VALUE" (MiB/s for seq*, IOPS for rand*).
SECS=2 TESTS=seqread IMG_MIB=256
. /files/bench/inner-lib.sh
K=$B/bzImage
I=$B/initrd.gz
MNT=/mnt/bench
IMG=$MNT/disk.img
GMEM=256

# cmd LABEL [SECS]: the configuration's command line.
cmd() {
	local s=${2:-$SECS}
	local p="quiet lkvm_test=bench-blk bench_secs=$s bench_tests=$TESTS"
	case $1 in
	host) echo "$B/blkbench -t $s $IMG $(echo "$TESTS" | tr , ' ')" ;;
	lkvm) echo "$LKVM run -k $K -i $I -m $GMEM -c 1 -d $IMG -p $p" ;;
	lkvm-sync) echo "env LKVM_NO_IO_URING=1 $LKVM run -k $K -i $I -m $GMEM -c 1 -d $IMG -p $p" ;;
	lkvm-direct) echo "$LKVM run -k $K -i $I -m $GMEM -c 1 -d $IMG,direct -p $p" ;;
	kvmtool) echo "$KT run -k $K -i $I -m $GMEM -c 1 -d $IMG -p $p" ;;
	esac
}

# measure LABEL SAMPLES [warm]: one run; the warm-up runs 1 s per test. The
# host's page cache is dropped first, so that a VMM's buffered reads start
# cold every time.
measure() {
	local l=$1 s=$SECS out=/tmp/run.out t name jobs v n=0
	[ "${3:-}" = warm ] && s=1
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for t in $(echo "$TESTS" | tr , ' '); do n=$((n + 1)); done
	if [ "$l" = host ]; then
		$(cmd host $s) >$out 2>&1
	else
		vm_run "$l" $((90 + n * s * 4)) $out "$(cmd "$l" $s)" || { fail_run "$l" $out "killed"; return 1; }
	fi
	for t in $(echo "$TESTS" | tr , ' '); do
		name=${t%%:*} jobs=1
		case $t in *:*) jobs=${t#*:} ;; esac
		case $name in seq*) v=mibps ;; *) v=iops ;; esac
		v=$(tr -d '\r' <$out | sed -n "s/^BLKBENCH test=$name jobs=$jobs .* $v=\([0-9.]*\).*/\1/p" | tail -n 1)
		[ -n "$v" ] || { fail_run "$l" $out "no $t figure"; return 1; }
		echo "$l $t $v" >>"$2"
	done
}

bench_start
echo "BENCH-KIND blk"
# The RAM disk: the image plus room for the filesystem.
insmod $B/brd.ko rd_nr=1 rd_size=$(((IMG_MIB + 32) * 1024)) || { echo "BENCH-NOTE cannot load brd.ko"; exit 1; }
mkdir -p $MNT
mke2fs -q /dev/ram0 >/dev/null && mount -t ext4 /dev/ram0 $MNT || { echo "BENCH-NOTE cannot make the image's filesystem"; exit 1; }
dd if=/dev/zero of=$IMG bs=1M count="$IMG_MIB" 2>/dev/null && sync || { echo "BENCH-NOTE cannot write $IMG"; exit 1; }
echo "BENCH-INFO image: $IMG_MIB MiB file on $(grep " $MNT " /proc/mounts | cut -d' ' -f1,3) (brd RAM disk); $SECS s per test: $TESTS"

labels="host lkvm lkvm-sync lkvm-direct"
[ "$HAVE_KVMTOOL" = 1 ] && labels="$labels kvmtool"
bench_rounds "$labels"
bench_stats "$(echo "$TESTS" | tr , ' ')"
bench_end
exit 0
