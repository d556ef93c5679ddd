# A multiqueue tap NIC (2 vCPUs): both pairs in use, four downloads at once
# and an upload, the per-queue interrupts for the record.
. /tests/net-lib.sh
peer=$(karg net_peer)
net_static eth0 "$(karg net_ip)/24"
echo "NET-QUEUES=$(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
ping -c 2 -W 5 "$peer" >/dev/null 2>&1 && echo NET-PING=ok
for p in 7601 7602 7603 7604; do
	net_download "$peer" $p NET-DOWN$p &
done
wait
net_upload "$peer" 7605 NET-UP 4
grep -E 'virtio.*(input|output)' /proc/interrupts | awk '{ print "NET-IRQ", $NF, $2 + $3 }'
echo NET-MQ-DONE
