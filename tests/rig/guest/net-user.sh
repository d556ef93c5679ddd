# User-mode networking: DHCP, ping, DNS forwarding, 10 MiB each way, 200
# short connections, UDP echo. The rig case runs the servers (ports 7101-7105).
. /tests/net-lib.sh
net_dhcp eth0 || { cat /tmp/udhcpc.log; echo NET-DHCP=failed; exit 1; }
echo "NET-ADDR=$(net_addr eth0)"
echo "NET-ROUTE=$(ip route | sed -n 's/^default via \([0-9.]*\).*/\1/p')"
echo "NET-DNS=$(sed -n 's/^nameserver //p' /etc/resolv.conf)"
ping -c 2 -W 5 10.0.2.2 >/dev/null 2>&1 && echo NET-PING=ok
echo NET-BASELINE
sleep 2
net_download 10.0.2.2 7101 NET-DOWN
net_upload 10.0.2.2 7102 NET-UP 10
nettool tcp-many 10.0.2.2 7103 200 2>/tmp/many.log
echo "NET-MANY-STATS=$(sed -n 's/^NETTOOL //p' /tmp/many.log)"
echo NET-CONNS-DONE
sleep 3
nettool udp-echo 10.0.2.2 7104 20
# DNS forwarding: 10.0.2.3:53 goes to the rig's resolv.conf nameserver.
nettool udp-echo 10.0.2.3 53 5 | sed 's/^UDP-ECHO-OK/DNS-FORWARD-OK/'
echo NET-USER-DONE
