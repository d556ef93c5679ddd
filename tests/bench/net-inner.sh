#!/bin/sh
# virtio-net benchmark, the part that runs INSIDE the rig (busybox sh) as
# /rig-test.sh; tests/bench/io.sh net puts everything under /files/bench/:
#   config        sourced: RUNS, SECS, HAVE_KVMTOOL
#   inner-lib.sh  the round loop and statistics (shared with the others)
#   nettool       tests/tools/nettool.c, static (also the guest's /bin/nettool)
#   bzImage       the minimal guest kernel (tests/rig/guest-kernel.sh)
#   initrd.gz     guest initramfs; lkvm_test=bench-net runs
#                 tests/bench/guest-net.sh, then reboot -f
#   lkvm-static   kvmtool, when it built
# Per run, SECS seconds of one TCP stream each way, measured by the
# receiver: tx = guest->host (the rig's tcp-sink), rx = host->guest (the
# guest's tcp-recv). The loopback row runs both ends in the rig: the limit.
# Samples: "LABEL tx|rx MIB/S".
SECS=3
. /files/bench/inner-lib.sh
K=$B/bzImage
I=$B/initrd.gz
NT=$B/nettool
GMEM=256
ip link set lo up

# cmd LABEL [SECS]: the configuration's command line. lkvm's user network
# is 10.0.2.0/24 (the host is 10.0.2.2); kvmtool's, and the tap both make
# (with the host end at 192.168.33.1), 192.168.33.0/24.
cmd() {
	local s=${2:-$SECS} vmm=$LKVM n ip=192.168.33.15 peer=192.168.33.1
	case $1 in
	loopback) echo "$NT tcp-blast 127.0.0.1 7401 $s; $NT tcp-recv 127.0.0.1 7402"; return ;;
	kvmtool:*) vmm=$KT ;;
	esac
	case $1 in
	lkvm:user) n=mode=user ip=10.0.2.15 peer=10.0.2.2 ;;
	*:user) n=mode=user ;;
	*:tap) n=mode=tap ;;
	*:vhost) n=mode=tap,vhost=1 ;;
	esac
	echo "$vmm run -k $K -i $I -m $GMEM -c 1 -n $n -p quiet lkvm_test=bench-net bench_secs=$s net_ip=$ip net_peer=$peer"
}

# measure LABEL SAMPLES [warm]: one run; the warm-up moves data for 1 s.
measure() {
	local l=$1 s=$SECS out=/tmp/run.out srv tx rx
	[ "${3:-}" = warm ] && s=1
	$NT tcp-sink 7401 >/dev/null 2>/tmp/sink.log &
	srv=$!
	$NT tcp-source 7402 "$s" 2>/dev/null &
	srv="$srv $!"
	sleep 0.2
	if [ "$l" = loopback ]; then
		$NT tcp-blast 127.0.0.1 7401 "$s" 2>/dev/null
		$NT tcp-recv 127.0.0.1 7402 2>&1 >/dev/null | sed 's/^NETTOOL /BENCH-NET-RX /' >$out
	else
		vm_run "$l" $((90 + s * 4)) $out "$(cmd "$l" $s)" || { kill $srv 2>/dev/null; fail_run "$l" $out "killed"; return 1; }
	fi
	kill $srv 2>/dev/null
	wait $srv 2>/dev/null
	case $l in
	lkvm:vhost) ! grep -q "vhost-net is unusable" $out || { fail_run "$l" $out "vhost-net not used"; return 1; } ;;
	esac
	tx=$(sed -n 's/^NETTOOL .*mibps=\([0-9.]*\).*/\1/p' /tmp/sink.log)
	rx=$(tr -d '\r' <$out | sed -n 's/^BENCH-NET-RX .*mibps=\([0-9.]*\).*/\1/p' | tail -n 1)
	[ -n "$tx" ] || { fail_run "$l" $out "no guest->host figure"; return 1; }
	[ -n "$rx" ] || { fail_run "$l" $out "no host->guest figure"; return 1; }
	echo "$l tx $tx" >>"$2"
	echo "$l rx $rx" >>"$2"
}

bench_start
echo "BENCH-KIND net"
echo "BENCH-INFO $SECS s per direction, one TCP stream, receiver-side figures"
labels="loopback lkvm:user lkvm:tap lkvm:vhost"
[ -c /dev/vhost-net ] || { labels="loopback lkvm:user lkvm:tap"; echo "BENCH-NOTE no /dev/vhost-net in the rig: no vhost rows"; }
if [ "$HAVE_KVMTOOL" = 1 ]; then
	labels="$labels kvmtool:user kvmtool:tap"
	[ -c /dev/vhost-net ] && labels="$labels kvmtool:vhost"
fi
bench_rounds "$labels"
bench_stats "tx rx"
bench_end
exit 0
