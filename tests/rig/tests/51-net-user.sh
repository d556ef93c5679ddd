# User mode (the default NIC): DHCP, ping, DNS forwarding, 10 MiB download
# and upload with checksums, 200 short connections without leaking sockets,
# UDP echo. Throughput figures are printed as notes.
# rig-timeout: 420
need_lkvm
net_case big 10
# The guest's DNS (10.0.2.3) goes to this resolver: a UDP echo server here.
echo "nameserver 127.0.0.1" >/etc/resolv.conf
serve tcp-serve-file 7101 "$CASE_DIR/big" 1 2>"$CASE_DIR/serve.log"
serve tcp-sink 7102 >"$CASE_DIR/up.bin" 2>"$CASE_DIR/sink.log"
serve tcp-echo-server 7103
serve udp-echo-server 7104
serve udp-echo-server 53

lkvm_pid() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = /lkvm ] && echo "${p#/proc/}" && return
	done
}
start_guest 400 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 256 -p lkvm_test=net-user
wait_for NET-BASELINE 120
lp=$(lkvm_pid)
before=$(ls "/proc/$lp/fd" | wc -l)
wait_for NET-CONNS-DONE 360
after=$(ls "/proc/$lp/fd" | wc -l)
finish_guest
expect_rc 0
expect_value NET-ADDR 10.0.2.15
expect_value NET-ROUTE 10.0.2.2
expect_value NET-DNS 10.0.2.3
expect_value NET-PING ok
expect_value NET-DOWN-MD5 "$want"
expect_value NET-UP-MD5 "$(md5sum <"$CASE_DIR/up.bin" | cut -d' ' -f1)"
[ "$(stat -c %s "$CASE_DIR/up.bin")" = 10485760 ] || fail "the upload is $(stat -c %s "$CASE_DIR/up.bin") bytes"
expect_value TCP-MANY-OK 200/200
expect_value UDP-ECHO-OK 20/20
expect_value DNS-FORWARD-OK 5/5
expect_value LKVM-GUEST-TEST-STATUS 0
[ "$after" -le $((before + 2)) ] || fail "lkvm has $after fds after 200 connections, $before before"
note "user mode download (host->guest): $(guest_value NET-DOWN-STATS)"
note "user mode upload (guest->host): $(guest_value NET-UP-STATS)"
note "user mode 200 connections: $(guest_value NET-MANY-STATS); lkvm fds $before -> $after"
