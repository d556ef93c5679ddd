# Two disks on each transport, each with its own serial (GET_ID).
# rig-timeout: 90
dd if=/dev/zero of="$CASE_DIR/b.img" bs=1M count=1 2>/dev/null
printf 'second!!' | dd of="$CASE_DIR/b.img" conv=notrunc 2>/dev/null
dd if=/dev/zero of="$CASE_DIR/a.img" bs=1M count=1 2>/dev/null
for tr in pci mmio; do
	boot_guest 40 blk-two --transport $tr -d "$CASE_DIR/a.img" -d "$CASE_DIR/b.img,ro"
	expect_rc 0
	expect_value LKVM-DISKS "vda vdb "
	expect_value LKVM-VDB-START 'second!!'
	a=$(guest_value LKVM-SERIAL-A)
	b=$(guest_value LKVM-SERIAL-B)
	[ -n "$a" ] && [ "$a" != "$b" ] || fail "serials '$a' and '$b' are not distinct"
done
