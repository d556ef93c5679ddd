# mode=tap,vhost=1: vhost-net carries 10 MiB each way (its worker thread runs,
# lkvm says nothing about falling back). With /dev/vhost-net unusable lkvm
# says so in one line and the network still works.
# rig-timeout: 400
need_lkvm
[ -c /dev/net/tun ] || skip "no /dev/net/tun in the rig"
[ -c /dev/vhost-net ] || skip "no /dev/vhost-net in the rig"
net_case big 10 'umount /dev/vhost-net 2>/dev/null'
serve tcp-echo-server 7303
servers() {
	serve tcp-serve-file 7301 "$CASE_DIR/big" 1 2>/dev/null
	serve tcp-sink 7302 >"$CASE_DIR/up.bin" 2>/dev/null
}
check() {
	expect_value NET-PING ok
	expect_value NET-DOWN-MD5 "$want"
	expect_value NET-UP-MD5 "$(md5sum <"$CASE_DIR/up.bin" | cut -d' ' -f1)"
	[ "$(stat -c %s "$CASE_DIR/up.bin")" = $(($1 * 1048576)) ] || fail "short upload"
	expect_value TCP-MANY-OK 50/50
}

servers
start_guest 300 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 256 -n mode=tap,vhost=1 \
	-p "lkvm_test=net-tap net_ip=192.168.33.15 net_peer=192.168.33.1 net_mib=10"
wait_for NET-TAP-READY 120
ps | grep -q '\[vhost-' || fail "no vhost worker thread while the guest runs"
wait_for NET-TAP-DONE 240
finish_guest
expect_rc 0
expect_not_in "$OUT" "vhost"
check 10
note "vhost download (host->guest): $(guest_value NET-DOWN-STATS)"
note "vhost upload (guest->host): $(guest_value NET-UP-STATS)"

mount -o bind /dev/null /dev/vhost-net || fail "cannot hide /dev/vhost-net"
servers
run_guest 200 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 256 -n mode=tap,vhost=1 \
	-p "lkvm_test=net-tap net_ip=192.168.33.15 net_peer=192.168.33.1 net_mib=1"
umount /dev/vhost-net
expect_rc 0
expect_in "$OUT" "/dev/vhost-net is unusable"
[ "$(grep -c vhost "$OUT")" = 1 ] || fail "expected one line about vhost-net"
check 1
