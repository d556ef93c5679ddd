# Helpers for the network guest scripts (net-*.sh source this file).
# karg NAME: the value of NAME=... on the kernel command line.
karg() {
	for w in $(cat /proc/cmdline); do
		case $w in "$1"=*) echo "${w#*=}"; return 0 ;; esac
	done
}

# net_dhcp IFACE: lease an address with udhcpc and configure IFACE with it.
net_dhcp() {
	cat >/tmp/udhcpc.sh <<'SCRIPT'
#!/bin/sh
case $1 in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -z "$router" ] || ip route add default via "${router%% *}" dev "$interface"
	[ -z "$dns" ] || echo "nameserver ${dns%% *}" >/etc/resolv.conf ;;
esac
exit 0
SCRIPT
	chmod +x /tmp/udhcpc.sh
	ip link set "$1" up
	udhcpc -i "$1" -n -q -t 10 -T 2 -s /tmp/udhcpc.sh >/tmp/udhcpc.log 2>&1
}

# net_static IFACE ADDR/LEN: a fixed address.
net_static() {
	ip link set "$1" up
	ip addr add "$2" dev "$1"
}

net_addr() { ip -4 addr show "$1" | sed -n 's/.*inet \([0-9.]*\).*/\1/p' | head -n 1; }

# net_download PEER PORT TAG: fetch a file, print TAG-MD5= and TAG-STATS=.
net_download() {
	echo "$3-MD5=$(nettool tcp-recv "$1" "$2" 2>/tmp/"$3".log | md5sum | cut -d' ' -f1)"
	echo "$3-STATS=$(sed -n 's/^NETTOOL //p' /tmp/"$3".log)"
}

# net_upload PEER PORT TAG MIB: send MIB MiB of random bytes, print TAG-MD5= and TAG-STATS=.
net_upload() {
	head -c $(($4 * 1048576)) /dev/urandom >/tmp/up.bin
	echo "$3-MD5=$(md5sum </tmp/up.bin | cut -d' ' -f1)"
	nettool tcp-send "$1" "$2" </tmp/up.bin 2>/tmp/"$3".log
	echo "$3-STATS=$(sed -n 's/^NETTOOL //p' /tmp/"$3".log)"
	rm -f /tmp/up.bin
}

ip link set lo up
