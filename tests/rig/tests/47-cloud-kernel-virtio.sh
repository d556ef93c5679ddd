# The stock Debian cloud kernel as guest, its virtio drivers loaded as
# modules from the initramfs: disk and rng appear, on both transports. Debian
# builds virtio_mmio without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES: over mmio the
# guest finds the devices in the ACPI DSDT (LNRO0005), not on the cmdline.
# rig-timeout: 200
need_file /guest/vmlinuz-cloud
dd if=/dev/zero of="$CASE_DIR/d.img" bs=1M count=1 2>/dev/null
printf 'cloudvda' | dd of="$CASE_DIR/d.img" conv=notrunc 2>/dev/null
for tr in pci mmio; do
	run_guest 90 -k /guest/vmlinuz-cloud -i "$GUEST_INITRD" -m 512 --transport $tr \
		-d "$CASE_DIR/d.img" -p lkvm_test=cloud-virtio
	expect_rc 0
	expect_not_in "$OUT" LKVM-INSMOD-FAILED
	expect_value LKVM-DISKS "vda "
	expect_value LKVM-VDA-START cloudvda
	expect_value LKVM-RNG-CURRENT virtio_rng.0
	expect_not_in "$OUT" "failed with error"
	expect_not_in "$OUT" "virtio_mmio.device="
done
