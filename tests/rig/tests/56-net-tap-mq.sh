# mode=tap with two vCPUs: a multiqueue tap, two queue pairs the guest turns
# on through the control queue; four downloads at once and an upload, with
# lkvm's data path and with vhost-net (one vhost device per pair).
# rig-timeout: 360
need_lkvm
[ -c /dev/net/tun ] || skip "no /dev/net/tun in the rig"
net_case file 4

# wait_done: the guest finishes within 150 s, or lkvm's threads are shown.
wait_done() {
	local n=750 p t
	while [ $n -gt 0 ] && kill -0 "$PID" 2>/dev/null; do
		sleep 0.2
		n=$((n - 1))
	done
	[ $n = 0 ] || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = /lkvm ] || continue
		for t in "$p"/task/*; do
			echo "thread $(cat "$t/comm"): $(head -n 4 "$t/stack" 2>/dev/null | tr '\n' ' ')"
		done
	done
	tail -n 5 "$OUT"
	fail "the guest did not finish within 150 s"
}

mq_run() {
	for p in 7601 7602 7603 7604; do
		serve tcp-serve-file $p "$CASE_DIR/file" 1 2>/dev/null
	done
	serve tcp-sink 7605 >"$CASE_DIR/up.bin" 2>/dev/null
	start_guest 200 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 256 -c 2 -n "$1" \
		-p "lkvm_test=net-mq net_ip=192.168.33.15 net_peer=192.168.33.1"
	wait_done
	finish_guest
	expect_rc 0
	expect_value NET-QUEUES "rx-0 rx-1 tx-0 tx-1 "
	expect_value NET-PING ok
	for p in 7601 7602 7603 7604; do
		expect_value NET-DOWN$p-MD5 "$want"
	done
	expect_value NET-UP-MD5 "$(md5sum <"$CASE_DIR/up.bin" | cut -d' ' -f1)"
	expect_in "$OUT" NET-MQ-DONE
	note "$1: interrupts per queue: $(tr -d '\r' <"$OUT" | sed -n 's/^NET-IRQ //p' | tr '\n' ' ')"
	note "$1: download $(guest_value NET-DOWN7601-STATS); upload $(guest_value NET-UP-STATS)"
}

mq_run mode=tap
[ -c /dev/vhost-net ] || skip "no /dev/vhost-net in the rig (lkvm's data path passed)"
mq_run mode=tap,vhost=1
expect_not_in "$OUT" "vhost"
