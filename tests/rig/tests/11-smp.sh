# Two vCPUs come up in the guest, both with the TSC-deadline timer.
# rig-timeout: 60
boot_guest 45 smp -c 2
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_value LKVM-NPROC 2
expect_value LKVM-SYSFS-CPUS 2
expect_value LKVM-TSC-DEADLINE 2
expect_in "$OUT" "TSC deadline timer available"
expect_rc 0
