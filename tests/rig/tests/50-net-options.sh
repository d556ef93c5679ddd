# -n/--network: bad input fails before the guest starts with one line and a
# non-zero status; a tap without permission too. mode=none and --nodefaults
# give the guest no NIC, no option gives it one (user mode).
# rig-timeout: 150
need_lkvm

# bad TEXT ARGS...: lkvm run ARGS fails cleanly with one line containing TEXT.
bad() {
	local text=$1
	shift
	run_guest 20 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" "$@"
	[ "$RC" != 0 ] && [ "$RC" -lt 124 ] || fail "lkvm run $* exited $RC, expected a clean failure"
	[ "$(wc -l <"$OUT")" = 1 ] || fail "lkvm run $*: expected one line, got: $(cat "$OUT")"
	expect_in "$OUT" "$text"
}
bad "unknown mode 'bogus'" -n mode=bogus
bad "unknown option 'speed'" --network mode=user,speed=10
bad "malformed option" -n mode
bad "need mode=tap" -n mode=user,vhost=1
bad "bad value 'xx' for guest_mac" -n mode=tap,guest_mac=xx
bad "needs an argument" -n ""

# Without CAP_NET_ADMIN (in a user namespace of its own) lkvm cannot create a tap.
if [ -c /dev/net/tun ]; then
	_new_out
	RC=0
	unshare -U "$LKVM" run -k "$GUEST_KERNEL" -n mode=tap </dev/null >"$OUT" 2>&1 || RC=$?
	[ "$RC" = 1 ] || fail "an unprivileged tap: exit status $RC, expected 1"
	[ "$(wc -l <"$OUT")" = 1 ] || fail "an unprivileged tap: expected one line, got: $(cat "$OUT")"
	expect_in "$OUT" "permission denied"
fi

boot_guest 60 net-none
expect_rc 0
expect_value NET-ETH0 present
boot_guest 60 net-none -n mode=none
expect_rc 0
expect_value NET-ETH0 absent
run_guest 60 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 256 --nodefaults \
	-p "console=ttyS0 panic=-1 lkvm_test=net-none"
expect_rc 0
expect_value NET-ETH0 absent
