# With acpi=off the guest finds its CPUs and I/O APIC in the MP table alone.
# (Without ACPI a guest's poweroff halts the CPUs, like on hardware, so the
# case stops lkvm itself once the guest has answered.)
# rig-timeout: 110
start_guest 50 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 128 -c 2 -p "lkvm_test=smp acpi=off"
wait_for LKVM-NPROC= 40
kill "$PID"
finish_guest
expect_in "$OUT" "found SMP MP-table"
expect_not_in "$OUT" "ACPI: RSDP"
expect_value LKVM-NPROC 2

# Without ACPI the virtio-mmio devices are announced on the kernel command
# line instead of in the DSDT (virtio_mmio.device=; never both).
dd if=/dev/zero of="$CASE_DIR/d.img" bs=1M count=1 2>/dev/null
printf 'mmiovda!' | dd of="$CASE_DIR/d.img" conv=notrunc 2>/dev/null
start_guest 50 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 128 --transport mmio \
	-d "$CASE_DIR/d.img" -p "lkvm_test=vda-id acpi=off"
wait_for LKVM-VDA-START= 40
kill "$PID"
finish_guest
expect_in "$OUT" "virtio_mmio.device=0x200@0xd0000000:5"
expect_value LKVM-VDA-START 'mmiovda!'
expect_not_in "$OUT" "failed with error"
