# A tap NIC: a fixed address, then 10 MiB each way with the rig (net_peer).
. /tests/net-lib.sh
peer=$(karg net_peer)
net_static eth0 "$(karg net_ip)/24"
ping -c 2 -W 5 "$peer" >/dev/null 2>&1 && echo NET-PING=ok
echo NET-TAP-READY
sleep 2
net_download "$peer" 7301 NET-DOWN
net_upload "$peer" 7302 NET-UP "$(karg net_mib)"
nettool tcp-many "$peer" 7303 50
echo NET-TAP-DONE
