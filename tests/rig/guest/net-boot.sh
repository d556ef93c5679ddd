# ip=dhcp on the command line configured eth0 at boot; a second NIC gets DHCP too.
. /tests/net-lib.sh
echo "NET-ADDR=$(net_addr eth0)"
echo "NET-NICS=$(ls /sys/class/net | grep -c '^eth')"
if [ -e /sys/class/net/eth1 ]; then
	net_dhcp eth1 && echo "NET-ADDR1=$(net_addr eth1)"
fi
net_download 10.0.2.2 7201 NET-DOWN
nettool tcp-many 10.0.2.2 7202 20
