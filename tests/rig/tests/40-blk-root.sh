# Root on /dev/vda (an ext4 image): write a file, boot again, read it back;
# with both virtio transports.
# rig-timeout: 150
need_file /files/disks/rootfs.ext4
for tr in pci mmio; do
	cp /files/disks/rootfs.ext4 "$CASE_DIR/root-$tr.ext4"
	run_guest 40 -k "$GUEST_KERNEL" -m 128 --transport $tr -d "$CASE_DIR/root-$tr.ext4" \
		-p "init=/init lkvm_test=blk-write"
	expect_rc 0
	expect_in "$OUT" LKVM-ROOT-IS-VDA
	expect_in "$OUT" LKVM-BLK-WRITTEN
	run_guest 40 -k "$GUEST_KERNEL" -m 128 --transport $tr -d "$CASE_DIR/root-$tr.ext4" \
		-p "init=/init lkvm_test=blk-read"
	expect_rc 0
	expect_value LKVM-PERSIST persisted-42
done
