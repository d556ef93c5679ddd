# Boot the minimal guest to /init and back: marker printed, clean exit.
# rig-timeout: 60
boot_guest 45 marker
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_value LKVM-TEST-MARKER 15
expect_rc 0
