# The 16-bit boot protocol path reaches the same /init.
# rig-timeout: 60
boot_guest 45 marker --boot=legacy
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_value LKVM-TEST-MARKER 15
expect_rc 0
