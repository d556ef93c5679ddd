# virtio-net benchmark, guest side (/tests/bench-net.sh): eth0 gets
# net_ip/24, then for bench_secs seconds each: guest->host to the rig's
# tcp-sink on net_peer:7401 (the rig measures), host->guest from its
# tcp-source on net_peer:7402 (measured here, BENCH-NET-RX). Then reboot -f:
# kvmtool ends on a reset, not on poweroff (it has no ACPI).
. /tests/net-lib.sh
peer=$(karg net_peer) secs=$(karg bench_secs)
net_static eth0 "$(karg net_ip)/24"
ping -c 1 -W 5 "$peer" >/dev/null 2>&1 || echo "BENCH-GUEST no ping reply from $peer"
nettool tcp-blast "$peer" 7401 "$secs" 2>&1 | sed 's/^NETTOOL /BENCH-NET-TX-SENT /'
nettool tcp-recv "$peer" 7402 2>&1 >/dev/null | sed 's/^NETTOOL /BENCH-NET-RX /'
echo BENCH-GUEST-DONE
reboot -f
