# lkvm sandbox --workdir shares one directory writable at the same path and
# starts the command there: the host sees what the guest wrote.
# (Binary stdin passthrough of 512 KiB timed out at the end of the session;
# its checks return with the fix.)
# rig-timeout: 120
need_lkvm
K=$GUEST_KERNEL
work=$CASE_DIR/work
mkdir -p "$work"
echo "host file" >"$work/from-host"

sandbox 60 /dev/null -k "$K" --workdir "$work" -- sh -c 'pwd; cat from-host; echo "guest file" >from-guest; mkdir sub && echo deep >sub/f'
expect_rc 0
[ "$(sed -n 1p "$OUT")" = "$work" ] || fail "the command did not start in $work: $(head -n 3 "$OUT")"
[ "$(sed -n 2p "$OUT")" = "host file" ] || fail "the guest cannot read the host's file"
[ "$(cat "$work/from-guest")" = "guest file" ] || fail "the guest's file is not on the host"
[ "$(cat "$work/sub/f")" = deep ] || fail "the guest's directory is not on the host"
