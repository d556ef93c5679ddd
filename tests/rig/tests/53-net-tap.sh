# mode=tap: lkvm creates the tap and gives the host 192.168.33.1/24; 10 MiB
# each way and 50 connections. Then a tap that exists already (tunctl),
# configured by the case.
# rig-timeout: 400
need_lkvm
[ -c /dev/net/tun ] || skip "no /dev/net/tun in the rig"
net_case big 10 'tunctl -d ltap1 >/dev/null 2>&1'
serve tcp-echo-server 7303

# tap_run MIB LKVM-NET-ARG IP PEER: one guest moving data both ways.
tap_run() {
	serve tcp-serve-file 7301 "$CASE_DIR/big" 1 2>/dev/null
	serve tcp-sink 7302 >"$CASE_DIR/up.bin" 2>/dev/null
	run_guest 200 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 256 -n "$2" \
		-p "lkvm_test=net-tap net_ip=$3 net_peer=$4 net_mib=$1"
	expect_rc 0
	expect_value NET-PING ok
	expect_value NET-DOWN-MD5 "$want"
	expect_value NET-UP-MD5 "$(md5sum <"$CASE_DIR/up.bin" | cut -d' ' -f1)"
	[ "$(stat -c %s "$CASE_DIR/up.bin")" = $(($1 * 1048576)) ] || fail "short upload"
	expect_value TCP-MANY-OK 50/50
}

tap_run 10 mode=tap 192.168.33.15 192.168.33.1
note "tap download (host->guest): $(guest_value NET-DOWN-STATS)"
note "tap upload (guest->host): $(guest_value NET-UP-STATS)"

tunctl -t ltap1 >/dev/null || fail "tunctl -t ltap1 failed"
ip addr add 192.168.34.1/24 dev ltap1
ip link set ltap1 up
tap_run 2 mode=tap,tapif=ltap1 192.168.34.15 192.168.34.1
