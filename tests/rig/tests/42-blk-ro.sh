# A ,ro disk: the guest sees it read-only, writes fail, the file is untouched.
# rig-timeout: 60
dd if=/dev/zero of="$CASE_DIR/ro.img" bs=1M count=1 2>/dev/null
printf 'lkvm-ro-disk-contents' | dd of="$CASE_DIR/ro.img" conv=notrunc 2>/dev/null
before=$(md5sum <"$CASE_DIR/ro.img")
boot_guest 40 blk-ro -d "$CASE_DIR/ro.img,ro"
expect_rc 0
expect_value LKVM-RO-FLAG 1
expect_value LKVM-RO-WRITE failed
expect_value LKVM-RO-READ lkvm-ro-disk-con
[ "$(md5sum <"$CASE_DIR/ro.img")" = "$before" ] || fail "the read-only image changed"
