# With acpi=off the guest finds its CPUs and I/O APIC in the MP table alone.
# (Without ACPI a guest's poweroff halts the CPUs, like on hardware, so the
# case stops lkvm itself once the guest has answered.)
# rig-timeout: 60
start_guest 50 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 128 -c 2 -p "lkvm_test=smp acpi=off"
wait_for LKVM-NPROC= 40
kill "$PID"
finish_guest
expect_in "$OUT" "found SMP MP-table"
expect_not_in "$OUT" "ACPI: RSDP"
expect_value LKVM-NPROC 2
