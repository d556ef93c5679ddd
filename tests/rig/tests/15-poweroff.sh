# Guest `poweroff -f` ends lkvm with status 0.
# rig-timeout: 60
boot_guest 45 poweroff
expect_in "$OUT" LKVM-POWEROFF-NOW
expect_not_in "$OUT" LKVM-POWEROFF-RETURNED
expect_rc 0
