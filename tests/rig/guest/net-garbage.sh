# Garbage frames from a packet socket, then the network must still work.
. /tests/net-lib.sh
net_dhcp eth0 || { echo NET-DHCP=failed; exit 1; }
nettool garbage eth0 20000 7
nettool garbage eth0 5000 8
sleep 1
net_download 10.0.2.2 7501 NET-DOWN
nettool tcp-many 10.0.2.2 7502 20
nettool udp-echo 10.0.2.2 7503 5
echo NET-GARBAGE-DONE
