# Discard punches holes: the image's allocated size shrinks.
# rig-timeout: 60
dd if=/dev/urandom of="$CASE_DIR/d.img" bs=1M count=4 2>/dev/null
sync
before=$(stat -c %b "$CASE_DIR/d.img")
boot_guest 40 blk-discard -d "$CASE_DIR/d.img"
expect_rc 0
expect_value LKVM-DISCARD ok
after=$(stat -c %b "$CASE_DIR/d.img")
note "allocated blocks: $before -> $after"
[ "$after" -lt "$before" ] || fail "discard did not free space ($before -> $after blocks)"
[ "$(stat -c %s "$CASE_DIR/d.img")" = 4194304 ] || fail "discard changed the file size"
