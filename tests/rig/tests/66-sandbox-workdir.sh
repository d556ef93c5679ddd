# lkvm sandbox --workdir shares one directory writable at the same path and
# starts the command there: the host sees what the guest wrote. Binary data
# passes through stdin and stdout intact (files and pipes), stdin's end
# reaches the command, and a command that stops reading early is fine.
# rig-timeout: 300
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

# Every byte value, through stdin and stdout.
head -c 524288 /dev/urandom >"$CASE_DIR/blob"
want=$(md5sum <"$CASE_DIR/blob" | cut -d' ' -f1)
sandbox 120 "$CASE_DIR/blob" -k "$K" -- cat
expect_rc 0
[ "$(md5sum <"$OUT" | cut -d' ' -f1)" = "$want" ] ||
	fail "cat changed the bytes ($(wc -c <"$OUT") of 524288 came out)"
sandbox 120 "$CASE_DIR/blob" -k "$K" -- md5sum
expect_rc 0
[ "$(cut -d' ' -f1 "$OUT")" = "$want" ] || fail "md5sum in the guest: $(cat "$OUT")"

# From a pipe, into the work directory.
_new_out
RC=0
cat "$CASE_DIR/blob" | timeout -k 5 120 "$LKVM" sandbox -k "$K" --workdir "$work" -- \
	sh -c 'cat >copy; wc -c <copy' >"$OUT" 2>"$CASE_DIR/pipe.err" || RC=$?
expect_rc 0
[ "$(tr -d ' ' <"$OUT")" = 524288 ] || fail "wc in the guest: $(cat "$OUT")"
cmp -s "$CASE_DIR/blob" "$work/copy" || fail "the copy in the work directory differs"

# The command stops reading: no hang, its status.
sandbox 60 "$CASE_DIR/blob" -k "$K" -- head -c 10
expect_rc 0
[ "$(wc -c <"$OUT")" = 10 ] || fail "head -c 10 gave $(wc -c <"$OUT") bytes"
